// Runs the real entry point (`bun src/index.ts`, what `bun run start` does) as a child
// process on a free port, and waits until it is ready. Killed at the end of the file.
import { afterAll } from "bun:test";
import { chmod, mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { freePort } from "./server.ts";

const ENTRY = new URL("../../src/index.ts", import.meta.url).pathname;
const children: { kill: (signal?: number | NodeJS.Signals) => void }[] = [];
afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
});

export interface RunningService {
  child: ReturnType<typeof Bun.spawn>;
  base: string;
}

export function spawnService(env: Record<string, string>) {
  const child = Bun.spawn(["bun", ENTRY], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", LOG_LEVEL: "warn", ...env },
    stdout: "ignore",
    stderr: "pipe",
  });
  children.push(child);
  return child;
}

export async function startService(env: Record<string, string>): Promise<RunningService> {
  const port = await freePort();
  const child = spawnService({ PORT: String(port), ...env });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`service exited: ${await new Response(child.stderr).text()}`);
    const ready = await fetch(`${base}/readyz`).catch(() => undefined);
    if (ready?.status === 200) return { child, base };
    await Bun.sleep(100);
  }
  throw new Error("service did not become ready within 60 s");
}

export const postJson = (url: string, body: unknown, signal?: AbortSignal) =>
  fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), signal });

/** A direct connection to the embedded database of a service started with DATA_DIR. */
export async function connectEmbedded(dataDir: string, port: string) {
  const password = (await readFile(join(dataDir, "postgres", "fleet-password"), "utf8")).trim();
  return postgres({ host: "127.0.0.1", port: Number(port), user: "fleet", password, database: "fleet", max: 2 });
}

/**
 * A fresh DATA_DIR. Made enterable by everyone, as a real deployment's would be: as root,
 * the embedded server runs as an unprivileged account that could not reach a 0700 one.
 */
export async function makeDataDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await chmod(dir, 0o755);
  return dir;
}
