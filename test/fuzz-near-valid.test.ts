// Fuzzed near-valid readings, batches, NDJSON uploads and mappings, one thing broken, never break the service.
// What the service must answer to each probe is in test/support/fuzz/harness.ts (docs/design.md, invariant 4).
import { describe, it } from "bun:test";
import fc from "fast-check";
import { useTestApp } from "./support/database.ts";
import {
  type Fields,
  kindArb,
  mutation,
  nearValidBatch,
  nearValidNdjson,
  nearValidReading,
  render,
} from "./support/fuzz/bodies.ts";
import { expectHotStateIsNewestHistory, Prober } from "./support/fuzz/harness.ts";
import { uuid } from "./support/fuzz/values.ts";

const t = useTestApp();

describe("fuzzed input never breaks the service", () => {
  it("near-valid single readings with one field mutated", async () => {
    const prober = new Prober(t, 300);
    await fc.assert(
      fc.asyncProperty(
        kindArb.chain((kind) => nearValidReading(kind).map((body) => ({ kind, body }))),
        async ({ kind, body }) => {
          await prober.send({ method: "POST", path: `/v1/telemetry/${kind}`, contentType: "application/json", body });
        },
      ),
      { numRuns: prober.runs },
    );
    await prober.expectDone(["201 ", "400 validation_failed"]);
  }, 60_000);

  it("near-valid JSON batches and NDJSON uploads with one item broken", async () => {
    const prober = new Prober(t, 300);
    await fc.assert(
      fc.asyncProperty(fc.oneof(nearValidBatch, nearValidNdjson), fc.boolean(), async (body, isNdjson) => {
        await prober.send({
          method: "POST",
          path: "/v1/telemetry/batch",
          contentType: isNdjson ? "application/x-ndjson" : "application/json",
          body,
        });
      }),
      { numRuns: prober.runs },
    );
    await prober.expectDone();
  }, 60_000);

  it("near-valid mapping bodies", async () => {
    const prober = new Prober(t);
    const pair = fc.tuple(uuid, uuid).map(
      ([vehicleId, meterId]): Fields => [
        ["vehicleId", JSON.stringify(vehicleId)],
        ["meterId", JSON.stringify(meterId)],
      ],
    );
    await fc.assert(
      fc.asyncProperty(
        pair.chain((fields) => mutation(fields.map(([name]) => name)).map((change) => render(fields, change))),
        async (body) => {
          await prober.send({ method: "POST", path: "/v1/mappings", contentType: "application/json", body });
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
