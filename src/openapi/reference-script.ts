// Reads the reference page's script from the installed @scalar/api-reference package, at
// start-up (src/index.ts), for src/openapi/reference-page.ts to serve. It is gzipped once,
// in the background: compressing its 4.9 MB takes most of a second of CPU, which neither
// every request nor the start-up should pay. Until that is done, answers are compressed
// as they go (src/http/compression.ts).
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import type { ReferenceScript } from "./reference-page.ts";

const gzipAsync = promisify(gzip);

export interface LoadedReferenceScript extends ReferenceScript {
  /** Settles once `gzipped` is set (or left unset, should compressing fail). */
  compressed: Promise<void>;
}

export async function loadReferenceScript(): Promise<LoadedReferenceScript> {
  const packageJson = fileURLToPath(import.meta.resolve("@scalar/api-reference/package.json"));
  const { version, browser } = JSON.parse(await readFile(packageJson, "utf8")) as { version: string; browser: string };
  const body = await readFile(join(dirname(packageJson), browser), "utf8");
  const script: LoadedReferenceScript = { path: `/docs/scalar-${version}.js`, body, compressed: Promise.resolve() };
  script.compressed = gzipAsync(body).then(
    (zipped) => {
      script.gzipped = new Uint8Array(zipped);
    },
    () => undefined,
  );
  return script;
}
