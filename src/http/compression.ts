// Response compression, where the client accepts it (gzip, else deflate): the reference
// page's script, /openapi.json, the dashboard's files, /metrics and JSON answers of at
// least MIN_BYTES. Small answers (an ingest's {"status":"stored"}) go as they are: on the
// hot path, compressing 20 bytes costs more than it saves. Streamed answers of unknown
// length are compressed as they stream; NDJSON is never touched, nor HEAD, nor an answer
// that is already encoded (hono/compress's own rules).
import type { Context, MiddlewareHandler } from "hono";
import { compress } from "hono/compress";

const MIN_BYTES = 1024;
const JSON_TYPE = /^application\/json\b/i;

/**
 * A JSON answer is built in memory (c.json), so its size is known once read: giving it a
 * Content-Length lets hono/compress leave small ones alone.
 */
async function measureJson(c: Context): Promise<void> {
  const type = c.res.headers.get("Content-Type") ?? "";
  if (!JSON_TYPE.test(type) || c.res.headers.has("Content-Length") || !c.res.body) return;
  const { status, headers } = c.res;
  const body = await c.res.arrayBuffer();
  const measured = new Headers(headers);
  measured.set("Content-Length", String(body.byteLength));
  c.res = new Response(body, { status, headers: measured });
}

export function compressAnswers(): MiddlewareHandler {
  const compressLarge = compress({ threshold: MIN_BYTES });
  return (c, next) =>
    compressLarge(c, async () => {
      await next();
      if (c.req.method !== "HEAD" && c.req.header("Accept-Encoding")) await measureJson(c);
    });
}
