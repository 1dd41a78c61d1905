// Uploads on real sockets: slow clients hold no database connection, steady ones finish,
// idle and too slow ones are cut with a 408 the client can read, and nothing they sent is kept.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { connect } from "node:net";
import { createTestApp } from "./support/database.ts";
import { meterReading, newId, vehicleReading } from "./support/http.ts";
import { ndjsonBody, type Served, serveTestApp, slowUpload } from "./support/slow-client.ts";

const NDJSON = "application/x-ndjson";
// Thresholds in seconds, not minutes, so each case runs in a few seconds.
const PACE = { minBytesPerSecond: 512, windowSeconds: 2, idleSeconds: 2 };

let served: Served;
beforeAll(async () => {
  served = await serveTestApp({ uploads: PACE });
});
afterAll(async () => {
  expect(served.t.unexpected).toEqual([]);
  await served.stop();
});

const postJson = (path: string, body: unknown) =>
  fetch(`${served.base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

const meterRows = async (meterId: string) => {
  const [row] = await served.t.database
    .sql`select count(*)::int as count from meter_telemetry where meter_id = ${meterId}`;
  return row?.count as number;
};

async function timed(request: Promise<Response>) {
  const started = performance.now();
  const response = await request;
  await response.arrayBuffer();
  return { status: response.status, ms: performance.now() - started };
}

describe("slow uploads", () => {
  it("lets a reading, a fleet query and a state read through while ten slow uploads arrive", async () => {
    // Ten uploads against a pool of 8 (test/support/database.ts): were an upload to hold a
    // connection while its client sends, they would leave none for anyone else.
    const vehicle = vehicleReading();
    expect((await postJson("/v1/telemetry/vehicle", vehicle)).status).toBe(201);
    const start = new Date("2026-03-14T00:00:00Z");
    const uploads = Array.from({ length: 10 }, () => {
      const meterId = newId();
      // About 6 KB at 1.2 KB/s: five seconds each, all at once.
      const { text, lines } = ndjsonBody(meterId, start, 6_000);
      const answer = slowUpload({ port: served.port, contentType: NDJSON, body: text, bytesPerStep: 120, stepMs: 100 });
      return { meterId, lines, answer };
    });
    let isUploading = true;
    void Promise.allSettled(uploads.map((u) => u.answer)).then(() => {
      isUploading = false;
    });

    const probes: { status: number; ms: number }[] = [];
    let roundsDuringUploads = 0;
    for (let round = 0; round < 6; round++) {
      probes.push(
        ...(await Promise.all([
          timed(postJson("/v1/telemetry/meter", meterReading())),
          timed(fetch(`${served.base}/v1/analytics/fleet?from=2026-03-14T00:00:00Z&to=2026-03-15T00:00:00Z`)),
          timed(fetch(`${served.base}/v1/vehicles/${vehicle.vehicleId}/state`)),
        ])),
      );
      if (isUploading) roundsDuringUploads++;
    }
    const answers = await Promise.all(uploads.map((u) => u.answer));

    expect(roundsDuringUploads).toBeGreaterThanOrEqual(3);
    expect(probes.map((p) => p.status)).toEqual(Array.from({ length: 6 }, () => [201, 200, 200]).flat());
    expect(Math.max(...probes.map((p) => p.ms))).toBeLessThan(2_000);
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(201));
    for (const [i, upload] of uploads.entries()) {
      expect(answers[i]?.elapsedMs).toBeGreaterThan(3_000);
      expect(await meterRows(upload.meterId)).toBe(upload.lines);
    }
  }, 60_000);

  it("finishes an upload sent at a steady 2 KB/s, well past the pace window", async () => {
    const meterId = newId();
    const { text, lines } = ndjsonBody(meterId, new Date("2026-03-10T00:00:00Z"), 10_000);
    const answer = await slowUpload({
      port: served.port,
      contentType: NDJSON,
      body: text,
      bytesPerStep: 200,
      stepMs: 100,
    });
    expect(answer.status).toBe(201);
    expect(answer.body).toEqual({ status: "stored", stored: lines, duplicates: 0 });
    expect(answer.elapsedMs).toBeGreaterThan(PACE.windowSeconds * 2_000);
    expect(await meterRows(meterId)).toBe(lines);
  }, 30_000);

  it("cuts an upload that goes quiet with a 408 upload_idle, keeping none of it", async () => {
    const meterId = newId();
    const { text } = ndjsonBody(meterId, new Date("2026-03-10T00:00:00Z"), 10_000);
    const answer = await slowUpload({
      port: served.port,
      contentType: NDJSON,
      body: text,
      bytesPerStep: 1_000,
      stepMs: 50,
      stallAfter: 3_000,
    });
    expect(answer.status).toBe(408);
    expect(answer.body.error.code).toBe("upload_idle");
    expect(answer.body.error.message).toContain(`${PACE.idleSeconds} s`);
    expect(answer.sent).toBe(3_000);
    expect(await meterRows(meterId)).toBe(0);
  }, 30_000);

  it("cuts an upload that keeps sending but below the minimum rate with a 408 upload_too_slow", async () => {
    const meterId = newId();
    const { text } = ndjsonBody(meterId, new Date("2026-03-10T00:00:00Z"), 10_000);
    // 100 bytes every 400 ms: never quiet for the idle limit, but 250 bytes/s against 512.
    const answer = await slowUpload({
      port: served.port,
      contentType: NDJSON,
      body: text,
      bytesPerStep: 100,
      stepMs: 400,
    });
    expect(answer.status).toBe(408);
    expect(answer.body.error.code).toBe("upload_too_slow");
    expect(answer.body.error.message).toContain(`${PACE.minBytesPerSecond} bytes/s`);
    expect(answer.sent).toBeLessThan(text.length);
    expect(await meterRows(meterId)).toBe(0);
  }, 30_000);

  it("holds a JSON batch to the same pace, and says why it was cut", async () => {
    const reading = meterReading();
    const body = JSON.stringify({ meters: [reading] });
    const answer = await slowUpload({
      port: served.port,
      contentType: "application/json",
      body,
      bytesPerStep: 20,
      stepMs: 10,
      stallAfter: 40,
    });
    // Not the 400 malformed_json a body cut short would otherwise read as.
    expect(answer.status).toBe(408);
    expect(answer.body.error.code).toStartWith("upload_");
    expect(await meterRows(reading.meterId)).toBe(0);
  }, 30_000);

  it("gives a kept-alive connection the server's idle timeout back once its upload is answered", async () => {
    // A server cutting idle connections after 2 s; the upload turned that off for itself.
    const short = await serveTestApp({ uploads: PACE }, 2);
    try {
      const { text } = ndjsonBody(newId(), new Date("2026-03-10T00:00:00Z"), 500);
      const socket = connect(short.port, "127.0.0.1");
      const closed = new Promise<number>((resolve) => socket.on("close", () => resolve(performance.now())));
      let received = "";
      const answered = new Promise<number>((resolve) =>
        socket.on("data", (chunk: Buffer) => {
          received += chunk.toString();
          if (received.includes('"stored"')) resolve(performance.now());
        }),
      );
      socket.write(
        `POST /v1/telemetry/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${NDJSON}\r\n` +
          `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
      );
      const answeredAt = await answered;
      expect(received).toStartWith("HTTP/1.1 201");
      // uWS checks idle connections every few seconds: cut within 10 s, not kept for good.
      const closedAt = await Promise.race([closed, Bun.sleep(15_000).then(() => Number.POSITIVE_INFINITY)]);
      socket.destroy();
      expect(closedAt - answeredAt).toBeLessThan(10_000);
    } finally {
      await short.stop();
    }
  }, 30_000);

  it("refuses an upload past UPLOAD_CONCURRENCY with 503 uploads_busy, and takes it once a place is free", async () => {
    const t = await createTestApp({ uploads: { ...PACE, concurrency: 1 } });
    try {
      const first = meterReading();
      let pulls = 0;
      let finishFirst = () => {};
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (pulls++ === 0)
            return controller.enqueue(new TextEncoder().encode(`${JSON.stringify({ type: "meter", ...first })}\n`));
          await new Promise<void>((resolve) => {
            finishFirst = resolve;
          });
          controller.close();
        },
      });
      const send = (content: BodyInit) =>
        t.app.request("/v1/telemetry/batch", {
          method: "POST",
          headers: { "content-type": NDJSON },
          body: content,
          duplex: "half",
        } as RequestInit);
      const firstAnswer = send(body);
      // The first upload is being read (its place taken) once its body is asked for more.
      const deadline = Date.now() + 5_000;
      while (pulls < 2 && Date.now() < deadline) await Bun.sleep(10);
      expect(pulls).toBe(2);

      const second = meterReading();
      const busy = await send(`${JSON.stringify({ type: "meter", ...second })}\n`);
      expect(busy.status).toBe(503);
      expect(busy.headers.get("retry-after")).toBe("10");
      expect(((await busy.json()) as { error: { code: string } }).error.code).toBe("uploads_busy");

      finishFirst();
      expect((await firstAnswer).status).toBe(201);
      expect((await send(`${JSON.stringify({ type: "meter", ...second })}\n`)).status).toBe(201);
      expect(t.unexpected).toEqual([]);
    } finally {
      await t.close();
    }
  }, 30_000);
});
