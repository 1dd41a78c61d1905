// The documented minimum upload pace, as the real entry point serves it with default
// settings: a body sent at a steady 2.5 KB/s for longer than the server's 30 s idle timeout
// finishes (that timeout used to cut bodies under about 16 KB/s with no answer).
import { afterAll, describe, expect, it } from "bun:test";
import { createTestDatabase } from "./support/database.ts";
import { newId } from "./support/http.ts";
import { startService } from "./support/service.ts";
import { ndjsonBody, slowUpload } from "./support/slow-client.ts";

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe("uploads with the default settings", () => {
  it("finish at 2.5 KB/s, just above the 2 KB/s minimum, however long past 30 s they take", async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const { child, base } = await startService({ DATABASE_URL: database.url });
    cleanups.push(async () => child.kill("SIGKILL"));

    const meterId = newId();
    // 90 KB at 250 bytes every 100 ms: 36 s.
    const { text, lines } = ndjsonBody(meterId, new Date(Date.now() - 86_400_000), 90_000);
    const answer = await slowUpload(
      {
        port: Number(new URL(base).port),
        contentType: "application/x-ndjson",
        body: text,
        bytesPerStep: 250,
        stepMs: 100,
      },
      90_000,
    );
    expect(answer.status).toBe(201);
    expect(answer.body).toEqual({ status: "stored", stored: lines, duplicates: 0 });
    expect(answer.elapsedMs).toBeGreaterThan(32_000);
    const [row] = await database.sql`select count(*)::int as count from meter_telemetry where meter_id = ${meterId}`;
    expect(row?.count).toBe(lines);
  }, 150_000);
});
