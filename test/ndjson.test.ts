// Streamed NDJSON uploads on POST /v1/telemetry/batch.
import { describe, expect, it } from "bun:test";
import { createApp } from "../src/app.ts";
import { createDb, createSql } from "../src/db/client.ts";
import { Partitions } from "../src/partitions/partitions.ts";
import { createDirectWriter } from "../src/telemetry/writer.ts";
import { useTestApp } from "./support/database.ts";
import { type JsonBody, meterReading, newId, vehicleReading } from "./support/http.ts";
import { expectDocumented } from "./support/openapi.ts";

const t = useTestApp({ limits: { maxNdjsonBytes: 16 * 1024 * 1024 } });

async function upload(body: string | ReadableStream<Uint8Array>) {
  const response = await t.app.request("/v1/telemetry/batch", {
    method: "POST",
    headers: { "content-type": "application/x-ndjson" },
    body,
    duplex: "half",
  } as RequestInit);
  const answer = { status: response.status, headers: response.headers, body: (await response.json()) as JsonBody };
  return expectDocumented(answer, "POST", "/v1/telemetry/batch");
}

const line = (reading: object, type: "meter" | "vehicle") => JSON.stringify({ type, ...reading });

async function countRows(ids: string[]) {
  const sql = t.database.sql;
  const [row] = await sql`
    select (select count(*) from meter_telemetry where meter_id in ${sql(ids)})::int
         + (select count(*) from vehicle_telemetry where vehicle_id in ${sql(ids)})::int as count
  `;
  return row?.count as number;
}

describe("NDJSON batch uploads", () => {
  it("stores meters and vehicles line by line and answers the counts", async () => {
    const meter = meterReading();
    const vehicle = vehicleReading({ soc: 61.25 });
    const body = `${line(meter, "meter")}\r\n\n${line(vehicle, "vehicle")}\n${line(meter, "meter")}\n`;
    const response = await upload(body);
    expect(response.status).toBe(201);
    expect(response.body).toEqual({ status: "stored", stored: 2, duplicates: 1 });
    expect(await countRows([meter.meterId, vehicle.vehicleId])).toBe(2);
    const state = await t.app.request(`/v1/vehicles/${vehicle.vehicleId}/state`);
    expect(((await state.json()) as JsonBody).soc).toBe(61.25);
  });

  it("takes 100,000 lines streamed in small chunks, across months, newest wins", async () => {
    const meterIds = Array.from({ length: 100 }, () => newId());
    const encoder = new TextEncoder();
    const total = 100_000;
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= total) return controller.close();
        let text = "";
        for (let i = 0; i < 500 && sent < total; i++, sent++) {
          const minute = Math.floor(sent / meterIds.length);
          const timestamp = new Date(Date.UTC(2026, 0, 1) + minute * 60_000).toISOString();
          text += `${line({ meterId: meterIds[sent % meterIds.length], kwhConsumedAc: 0.125, voltage: 230, timestamp }, "meter")}\n`;
        }
        controller.enqueue(encoder.encode(text));
      },
    });
    const response = await upload(stream);
    expect(response.status).toBe(201);
    expect(response.body).toEqual({ status: "stored", stored: total, duplicates: 0 });
    const [sum] = await t.database.sql`
      select sum(kwh_consumed_ac) as energy, max(recorded_at)::text as last
      from meter_telemetry where meter_id in ${t.database.sql(meterIds)}
    `;
    expect(sum?.energy).toBe(12_500);
    const state = await t.app.request(`/v1/meters/${meterIds[0]}/state`);
    expect(((await state.json()) as JsonBody).lastUpdated).toBe("2026-01-01T16:39:00.000Z");
  }, 60_000);

  it("refuses the whole upload when any line is bad, listing each by line and field", async () => {
    const good = meterReading();
    const body = [
      line(good, "meter"),
      line(meterReading({ voltage: -5 }), "meter"),
      "{not json",
      JSON.stringify({ type: "charger", ...meterReading() }),
      line(vehicleReading({ soc: 200 }), "vehicle"),
    ].join("\n");
    const response = await upload(body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("validation_failed");
    expect(response.body.error.details).toEqual([
      { line: 2, field: "voltage", message: "must be at least 0" },
      { line: 3, field: "(line)", message: "is not valid JSON" },
      { line: 4, field: "type", message: 'must be "meter" or "vehicle"' },
      { line: 5, field: "soc", message: "must be at most 100" },
    ]);
    expect(await countRows([good.meterId])).toBe(0);
  });

  it("writes nothing when the client goes away mid-upload", async () => {
    const meter = meterReading();
    let pulls = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulls++ === 0) return controller.enqueue(new TextEncoder().encode(`${line(meter, "meter")}\n`));
        controller.error(new Error("connection reset"));
      },
    });
    const response = await Promise.resolve(
      t.app.request("/v1/telemetry/batch", {
        method: "POST",
        headers: { "content-type": "application/x-ndjson" },
        body: stream,
        duplex: "half",
      } as RequestInit),
    ).catch(() => undefined);
    expect(response?.status).toBe(400);
    expect(await countRows([meter.meterId])).toBe(0);
  });

  it("refuses an empty upload, a line too long and a body over the limit", async () => {
    expect((await upload("\n\n")).status).toBe(400);
    expect((await upload(`{"type":"meter","pad":"${"x".repeat(70_000)}"}\n`)).status).toBe(413);
    const big = `${line(meterReading(), "meter")}\n`.repeat(160_000); // ~19 MB > 16 MiB
    const response = await upload(big);
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe("payload_too_large");
  }, 30_000); // 16 MiB of lines are read and checked before the limit is reached

  it("holds lines to 64 KiB of bytes, not of characters, and takes multibyte text within it", async () => {
    // 30,000 three-byte characters: 90,000 bytes in a line of 30,000 UTF-16 units.
    const multibyte = await upload(`{"type":"meter","pad":"${"€".repeat(30_000)}"}\n`);
    expect(multibyte.status).toBe(413);
    expect(multibyte.body.error.message).toContain("65536 bytes");
    // Cut anywhere, even inside a character, a stream of lines within the limit is read whole.
    const reading = meterReading();
    const text = `${JSON.stringify({ type: "meter", ...reading, note: "é€😀".repeat(5_000) })}\n`;
    expect(new TextEncoder().encode(text).byteLength).toBeLessThan(64 * 1024);
    const bytes = new TextEncoder().encode(text);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < bytes.byteLength; at += 7) controller.enqueue(bytes.slice(at, at + 7));
        controller.close();
      },
    });
    const answer = await upload(stream);
    expect(answer.status).toBe(201);
    expect(await countRows([reading.meterId as string])).toBe(1);
  });

  it("takes more uploads at once than the pool has connections", async () => {
    // An upload holds one connection for its transaction; anything it needed from a second
    // one would leave uploads as many as the pool each waiting for another, forever.
    const sql = createSql({ url: t.database.url, poolSize: 2, connectTimeoutSeconds: 10 });
    const partitions = new Partitions(sql);
    const app = createApp({ sql, db: createDb(sql), writer: createDirectWriter(sql, partitions), partitions });
    try {
      const uploads = Array.from({ length: 6 }, (_, i) => {
        const body = `${line(meterReading({ timestamp: `2026-0${(i % 3) + 1}-10T00:00:00Z` }), "meter")}\n${line(vehicleReading(), "vehicle")}\n`;
        return app.request("/v1/telemetry/batch", {
          method: "POST",
          headers: { "content-type": "application/x-ndjson" },
          body,
        });
      });
      const answered = await Promise.race([
        Promise.all(uploads).then((responses) => responses.map((response) => response.status)),
        Bun.sleep(8_000).then(() => "no answer within 8 s"),
      ]);
      expect(answered).toEqual([201, 201, 201, 201, 201, 201]);
    } finally {
      await sql.end({ timeout: 1 });
    }
  }, 20_000);
});
