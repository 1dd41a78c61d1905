// Fuzzed raw bytes under any content type, and bodies streamed in odd chunks or cut off, never break the service.
// What the service must answer to each probe is in test/support/fuzz/harness.ts (docs/design.md, invariant 4).
import { describe, it } from "bun:test";
import fc from "fast-check";
import { useTestApp } from "./support/database.ts";
import { bytes, kindArb, nearValidBatch, nearValidNdjson, nearValidReading } from "./support/fuzz/bodies.ts";
import { expectHotStateIsNewestHistory, Prober } from "./support/fuzz/harness.ts";
import { contentType, WRITE_PATHS } from "./support/fuzz/requests.ts";
import { jsonText } from "./support/fuzz/values.ts";

const t = useTestApp();

describe("fuzzed input never breaks the service", () => {
  it("random bytes under random content types, to every endpoint", async () => {
    const prober = new Prober(t);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...WRITE_PATHS, "/v1/telemetry/batch"),
        contentType,
        bytes,
        async (path, type, body) => {
          await prober.send({ method: "POST", path, contentType: type, body });
        },
      ),
      { numRuns: prober.runs },
    );
    await prober.expectDone(["400 malformed_json", "413 payload_too_large", "415 unsupported_media_type"]);
  }, 60_000);

  it("bodies streamed in arbitrary chunks (split inside characters), some breaking off mid-upload", async () => {
    const prober = new Prober(t);
    const body = fc.oneof(
      kindArb.chain((kind) => nearValidReading(kind)),
      nearValidBatch,
      nearValidNdjson,
      jsonText,
      fc.constantFrom('{"meterId":"é€𝟙"}', '{"vehicles":[]}\n', "\u00e9\u20ac\ud835\udfd9"),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...WRITE_PATHS, "ndjson"),
        body,
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.option(fc.nat(6), { nil: undefined }),
        async (target, text, cuts, breakAt) => {
          const bytes = new TextEncoder().encode(text);
          const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
          const chunks = [0, ...points, bytes.length]
            .slice(1)
            .map((end, i, ends) => bytes.slice(i === 0 ? 0 : (ends[i - 1] as number), end))
            .filter((chunk) => chunk.length > 0);
          const breakAfter = breakAt === undefined || chunks.length === 0 ? undefined : breakAt % chunks.length;
          await prober.send({
            method: "POST",
            path: target === "ndjson" ? "/v1/telemetry/batch" : target,
            contentType: target === "ndjson" ? "application/x-ndjson" : "application/json",
            body: { chunks, breakAfter },
          });
        },
      ),
      { numRuns: prober.runs },
    );
    await prober.expectDone();
  }, 60_000);

  it("kept each device's hot state equal to its newest history through all of it", async () => {
    await expectHotStateIsNewestHistory(t.database.sql);
  });
});
