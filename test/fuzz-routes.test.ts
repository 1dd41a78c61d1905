// Fuzzed path parameters, query strings, unknown paths and wrong methods never break the service.
// What the service must answer to each probe is in test/support/fuzz/harness.ts (docs/design.md, invariant 4).
import { describe, it } from "bun:test";
import fc from "fast-check";
import { useTestApp } from "./support/database.ts";
import { expectHotStateIsNewestHistory, Prober } from "./support/fuzz/harness.ts";
import { anyBody, contentType, methodArb, pathParam, queryString, WRITE_PATHS } from "./support/fuzz/requests.ts";
import { printable, safeEncode, uuid } from "./support/fuzz/values.ts";

const t = useTestApp();

describe("fuzzed input never breaks the service", () => {
  it("hostile path parameters: almost-UUIDs, percent-encoding, traversal", async () => {
    const prober = new Prober(t, 300);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("delete-mapping", "vehicle-state", "meter-state", "performance", "series"),
        pathParam,
        pathParam,
        async (route, first, second) => {
          const path =
            route === "delete-mapping"
              ? `/v1/mappings/${first}/${second}`
              : route === "vehicle-state"
                ? `/v1/vehicles/${first}/state`
                : route === "meter-state"
                  ? `/v1/meters/${first}/state`
                  : route === "series"
                    ? `/v1/analytics/vehicles/${first}/series`
                    : `/v1/analytics/performance/${first}`;
          await prober.send({ method: route === "delete-mapping" ? "DELETE" : "GET", path });
        },
      ),
      { numRuns: prober.runs },
    );
    await prober.expectDone();
  }, 60_000);

  it("hostile query strings: duplicate keys, odd values, bad encoding", async () => {
    const prober = new Prober(t, 300);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("mappings", "performance", "state", "series", "fleet", "stats", "unlink"),
        uuid,
        queryString,
        async (route, id, query) => {
          const paths: Record<string, string> = {
            mappings: `/v1/mappings?${query}`,
            performance: `/v1/analytics/performance/${id}?${query}`,
            state: `/v1/meters/${id}/state?${query}`,
            series: `/v1/analytics/vehicles/${id}/series?${query}`,
            fleet: `/v1/analytics/fleet?${query}`,
            stats: `/v1/admin/stats?${query}`,
            unlink: `/v1/mappings/${id}/${id}?${query}`,
          };
          await prober.send({ method: route === "unlink" ? "DELETE" : "GET", path: paths[route] as string });
        },
      ),
      { numRuns: prober.runs },
    );
    await prober.expectDone(["200 ", "404 not_found"]);
  }, 60_000);

  it("unknown paths and wrong methods", async () => {
    const prober = new Prober(t, 300);
    const knownPath = fc.constantFrom(
      "/",
      "/healthz",
      "/readyz",
      "/v1",
      "/v1/",
      ...WRITE_PATHS,
      "/v1/telemetry",
      "/v1/telemetry/meter/",
      "/V1/TELEMETRY/METER",
      "/v1/telemetry/meter/../vehicle",
      "/v1/telemetry/%6D%65%74%65%72",
      "//v1/telemetry/meter",
      "/v1//mappings",
      "/v1/telemetry/meter;x=1",
      "/v1/mappings/00000000-0000-0000-0000-000000000000",
      "/v1/vehicles/00000000-0000-0000-0000-000000000000",
      "/v1/analytics/performance",
      "/v1/analytics/performance/",
      "/v2/telemetry/meter",
      "/%2e%2e/%2e%2e/etc/passwd",
    );
    const randomPath = fc
      .array(fc.oneof(pathParam, printable(12).map(safeEncode)), { minLength: 1, maxLength: 5 })
      .map((segments) => `/${segments.join("/")}`);
    await fc.assert(
      fc.asyncProperty(
        methodArb,
        fc.oneof(
          knownPath,
          randomPath,
          randomPath.map((p) => `/v1${p}`),
        ),
        fc.option(contentType, { nil: undefined }),
        anyBody,
        async (method, path, type, body) => {
          await prober.send({ method, path, contentType: type, body });
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
