// Reads the reference page's script from the installed @scalar/api-reference package, at
// start-up (src/index.ts), for src/openapi/reference-page.ts to serve; gzipped once here,
// as compressing its 4.9 MB takes most of a second of CPU on every request otherwise.
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import type { ReferenceScript } from "./reference-page.ts";

export async function loadReferenceScript(): Promise<ReferenceScript> {
  const packageJson = fileURLToPath(import.meta.resolve("@scalar/api-reference/package.json"));
  const { version, browser } = JSON.parse(await readFile(packageJson, "utf8")) as { version: string; browser: string };
  const body = await readFile(join(dirname(packageJson), browser), "utf8");
  return { path: `/docs/scalar-${version}.js`, body, gzipped: new Uint8Array(gzipSync(body)) };
}
