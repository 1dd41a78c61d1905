// A client on a real socket that sends its body at a pace of its own (a gateway on a slow
// link), and the app served by Bun.serve on a free port, as src/index.ts serves it.
import { connect } from "node:net";
import type { AppDeps } from "../../src/app.ts";
import { createTestApp, type TestApp } from "./database.ts";

export interface Served {
  t: TestApp;
  base: string;
  port: number;
  stop(): Promise<void>;
}

/** The test app behind Bun.serve, its idle timeout and per-request hook wired as in src/index.ts. */
export async function serveTestApp(overrides: Partial<AppDeps> = {}, idleTimeout = 30): Promise<Served> {
  let server: ReturnType<typeof Bun.serve> | undefined;
  const t = await createTestApp({
    ...overrides,
    requestTimeout: (request, seconds = idleTimeout) => server?.timeout(request, seconds),
  });
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => t.app.fetch(request), idleTimeout });
  const port = server.port as number;
  return {
    t,
    port,
    base: `http://127.0.0.1:${port}`,
    async stop() {
      await server?.stop(true);
      await t.close();
    },
  };
}

export interface SlowAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: a response body has no static type
  body: any;
  /** Body bytes written before the answer came or the body was done. */
  sent: number;
  /** Milliseconds from the first byte sent to the answer. */
  elapsedMs: number;
}

export interface SlowUpload {
  port: number;
  path?: string;
  contentType: string;
  body: string;
  /** Bytes written at each step, and the pause between steps. */
  bytesPerStep: number;
  stepMs: number;
  /** Stop writing (without closing) after this many bytes: an idle client. */
  stallAfter?: number;
}

/**
 * Sends `body` with a Content-Length over a raw socket, `bytesPerStep` every `stepMs`, and
 * answers the server's response, whenever it comes (also before the body is all sent).
 */
export function slowUpload(upload: SlowUpload, deadlineMs = 60_000): Promise<SlowAnswer> {
  const body = Buffer.from(upload.body);
  const head =
    `POST ${upload.path ?? "/v1/telemetry/batch"} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
    `Content-Type: ${upload.contentType}\r\nContent-Length: ${body.byteLength}\r\nConnection: close\r\n\r\n`;
  return new Promise((resolve, reject) => {
    const socket = connect(upload.port, "127.0.0.1");
    const started = performance.now();
    const limit = upload.stallAfter ?? body.byteLength;
    let sent = 0;
    let received = Buffer.alloc(0);
    let isAnswered = false;
    let isDone = false;
    const timers: Timer[] = [];
    const finish = (error?: Error) => {
      if (isDone) return;
      isDone = true;
      for (const timer of timers) clearTimeout(timer);
      socket.destroy();
      if (error) return reject(error);
      const text = received.toString();
      const [status] = /^HTTP\/1\.1 (\d{3})/.exec(text)?.slice(1) ?? [];
      const payload = text.slice(text.indexOf("\r\n\r\n") + 4);
      resolve({ status: Number(status), body: parseBody(payload), sent, elapsedMs: performance.now() - started });
    };
    const step = () => {
      if (isAnswered || sent >= limit) return;
      const end = Math.min(sent + upload.bytesPerStep, limit);
      socket.write(body.subarray(sent, end));
      sent = end;
      timers.push(setTimeout(step, upload.stepMs));
    };
    timers.push(setTimeout(() => finish(new Error(`no answer within ${deadlineMs} ms`)), deadlineMs));
    socket.on("connect", () => {
      socket.write(head);
      step();
    });
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      isAnswered = true;
      if (isComplete(received)) finish();
    });
    socket.on("error", () => {}); // a write after the server answered and closed; the close below answers
    socket.on("close", () => (received.byteLength > 0 ? finish() : finish(new Error("closed without an answer"))));
  });
}

function isComplete(received: Buffer): boolean {
  const text = received.toString();
  const end = text.indexOf("\r\n\r\n");
  if (end === -1) return false;
  const length = /content-length: (\d+)/i.exec(text.slice(0, end))?.[1];
  return length !== undefined && Buffer.byteLength(text.slice(end + 4)) >= Number(length);
}

function parseBody(text: string) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** NDJSON lines of meter readings for `meterId`, one a minute from `start`, about `bytes` long in all. */
export function ndjsonBody(meterId: string, start: Date, bytes: number): { text: string; lines: number } {
  let text = "";
  let lines = 0;
  while (text.length < bytes) {
    const timestamp = new Date(start.getTime() + lines * 60_000).toISOString();
    text += `${JSON.stringify({ type: "meter", meterId, kwhConsumedAc: 0.25, voltage: 230, timestamp })}\n`;
    lines++;
  }
  return { text, lines };
}
