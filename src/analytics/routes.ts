// GET /v1/analytics/performance/:vehicleId[?from=&to=]: how much AC the vehicle's meters
// drew, how much DC reached its battery, and their ratio, over a window (default: the 24
// hours ending now).
import { Hono } from "hono";
import { z } from "zod";
import type { Sql } from "../db/client.ts";
import { notFound } from "../http/errors.ts";
import { validate } from "../http/validate.ts";
import { deviceIdSchema } from "../telemetry/schemas.ts";
import { vehiclePerformance, type Window } from "./queries.ts";

const DAY_MS = 24 * 60 * 60 * 1000;
export const MAX_WINDOW_DAYS = 366;

const instant = z.iso
  .datetime({ offset: true, error: "must be an ISO-8601 date-time with a zone, e.g. 2026-02-09T00:00:00Z" })
  .transform((text) => new Date(text));

export function windowQuerySchema(now: () => Date) {
  return z
    .object({ from: instant.optional(), to: instant.optional() })
    .transform(({ from, to }): Window => {
      const end = to ?? now();
      return { from: from ?? new Date(end.getTime() - DAY_MS), to: end };
    })
    .refine((window) => window.from < window.to, { message: "from must be before to", path: ["from"] })
    .refine((window) => window.to.getTime() - window.from.getTime() <= MAX_WINDOW_DAYS * DAY_MS, {
      message: `the window may span at most ${MAX_WINDOW_DAYS} days`,
      path: ["from"],
    });
}

export function analyticsRoutes(sql: Sql, now: () => Date) {
  return new Hono().get(
    "/performance/:vehicleId",
    validate("param", z.object({ vehicleId: deviceIdSchema })),
    validate("query", windowQuerySchema(now)),
    async (c) => {
      const { vehicleId } = c.req.valid("param");
      const window = c.req.valid("query");
      const { isKnown, ...performance } = await vehiclePerformance(sql, vehicleId, window);
      if (!isKnown) throw notFound(`vehicle ${vehicleId} has never been seen`);
      return c.json({
        vehicleId,
        from: window.from.toISOString(),
        to: window.to.toISOString(),
        ...performance,
      });
    },
  );
}
