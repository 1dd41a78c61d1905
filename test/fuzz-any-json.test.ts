// Fuzzed JSON of any shape and depth, as the body of every write endpoint or inside a field, never breaks the service.
// What the service must answer to each probe is in test/support/fuzz/harness.ts (docs/design.md, invariant 4).
import { describe, it } from "bun:test";
import fc from "fast-check";
import { useTestApp } from "./support/database.ts";
import { expectHotStateIsNewestHistory, type Probe, Prober } from "./support/fuzz/harness.ts";
import { WRITE_PATHS } from "./support/fuzz/requests.ts";
import { anythingText, deepNesting, jsonText } from "./support/fuzz/values.ts";

const t = useTestApp();

describe("fuzzed input never breaks the service", () => {
  it("any JSON value as the body of every write endpoint (JSON and NDJSON)", async () => {
    const prober = new Prober(t);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...WRITE_PATHS, "ndjson"),
        fc.oneof(jsonText, anythingText),
        fc.array(fc.oneof(jsonText, anythingText), { maxLength: 5 }),
        async (target, body, lines) => {
          if (target === "ndjson") {
            await prober.send({
              method: "POST",
              path: "/v1/telemetry/batch",
              contentType: "application/x-ndjson",
              body: [body, ...lines].join("\n"),
            });
          } else {
            await prober.send({ method: "POST", path: target, contentType: "application/json", body });
          }
        },
      ),
      { numRuns: prober.runs },
    );
    await prober.expectDone();
  }, 60_000);

  it("deeply nested arrays and objects, as a body and inside fields", async () => {
    const prober = new Prober(t, 100);
    await fc.assert(
      fc.asyncProperty(
        deepNesting,
        fc.constantFrom("body", "meterId", "meters", "ndjson-line", "ndjson-field"),
        fc.constantFrom(...WRITE_PATHS),
        async (nested, where, path) => {
          const probe: Probe =
            where === "body"
              ? { method: "POST", path, contentType: "application/json", body: nested }
              : where === "meterId"
                ? {
                    method: "POST",
                    path: "/v1/telemetry/meter",
                    contentType: "application/json",
                    body: `{"meterId":${nested},"kwhConsumedAc":1,"voltage":230,"timestamp":"2026-03-15T11:00:00Z"}`,
                  }
                : where === "meters"
                  ? {
                      method: "POST",
                      path: "/v1/telemetry/batch",
                      contentType: "application/json",
                      body: `{"meters":${nested}}`,
                    }
                  : {
                      method: "POST",
                      path: "/v1/telemetry/batch",
                      contentType: "application/x-ndjson",
                      body: where === "ndjson-line" ? nested : `{"type":"meter","meterId":${nested}}`,
                    };
          await prober.send(probe);
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
