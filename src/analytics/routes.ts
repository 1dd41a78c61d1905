// Analytics: GET /v1/analytics/performance/:vehicleId, /vehicles/:vehicleId/series and
// /fleet. Every window is validated and bounded; unknown vehicles are a 404. Vehicles are
// named beside their ids, and the series and fleet also answer as CSV (exports.ts).
import { Hono } from "hono";
import { z } from "zod";
import type { Sql } from "../db/client.ts";
import { notFound } from "../http/errors.ts";
import { deviceIdSchema } from "../http/schemas.ts";
import { validate } from "../http/validate.ts";
import { DAY_MS, HOUR_MS } from "../time.ts";
import { formatField, wantsCsv } from "./csv.ts";
import type { Window } from "./energy.ts";
import { fleetCsv, seriesCsv, withFleetNames, withVehicleName } from "./exports.ts";
import { fleetView, type VehicleFigures } from "./fleet.ts";
import type { FleetCache } from "./fleet-cache.ts";
import { vehiclePerformance } from "./performance.ts";
import type { QualityThresholds } from "./quality.ts";
import { BUCKET_MS, vehicleSeries } from "./series.ts";
import { checkWindow, resolveWindow, windowFields, windowSchema } from "./window.ts";

export const MAX_WINDOW_DAYS = 366;
const vehicleParam = z.object({ vehicleId: deviceIdSchema });

export interface AnalyticsDeps {
  /** Reads go here: a read replica when one is configured. */
  sql: Sql;
  now: () => Date;
  thresholds: QualityThresholds;
  /** The fleet view's cache of recent days, over `sql`. */
  fleetCache: FleetCache;
}

export function analyticsRoutes({ sql, now, thresholds, fleetCache }: AnalyticsDeps) {
  const performanceQuery = windowSchema({ now, defaultSpanMs: DAY_MS, maxSpanMs: MAX_WINDOW_DAYS * DAY_MS });
  const seriesRules = {
    hour: { now, defaultSpanMs: DAY_MS, maxSpanMs: 31 * DAY_MS, stepMs: BUCKET_MS.hour },
    day: { now, defaultSpanMs: 30 * DAY_MS, maxSpanMs: MAX_WINDOW_DAYS * DAY_MS, stepMs: BUCKET_MS.day },
  };
  const seriesQuery = z
    .object({
      bucket: z.enum(["hour", "day"], { error: "must be hour or day" }).default("hour"),
      ...windowFields,
      ...formatField,
    })
    .transform(({ bucket, format, ...fields }) => ({
      bucket,
      format,
      window: resolveWindow(fields, seriesRules[bucket]),
    }))
    .superRefine(({ bucket, window }, context) => checkWindow(window, seriesRules[bucket].maxSpanMs, context));
  const fleetRules = { now, defaultSpanMs: DAY_MS, maxSpanMs: 31 * DAY_MS, stepMs: HOUR_MS };
  const fleetQuery = z
    .object({
      limit: z.coerce.number().int().min(1).max(500).default(50),
      offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
      ...windowFields,
      ...formatField,
    })
    .transform(({ limit, offset, format, ...fields }) => ({
      limit,
      offset,
      format,
      window: resolveWindow(fields, fleetRules),
    }))
    .superRefine(({ window }, context) => checkWindow(window, fleetRules.maxSpanMs, context));

  const seriesOf = async (vehicleId: string, { bucket, window }: { bucket: "hour" | "day"; window: Window }) => {
    const series = await vehicleSeries(sql, vehicleId, window, bucket);
    if (!series) throw notFound(`vehicle ${vehicleId} has never been seen`);
    return series;
  };

  return new Hono()
    .get("/performance/:vehicleId", validate("param", vehicleParam), validate("query", performanceQuery), async (c) => {
      const { vehicleId } = c.req.valid("param");
      const performance = await vehiclePerformance(sql, vehicleId, c.req.valid("query"), thresholds, now());
      if (!performance) throw notFound(`vehicle ${vehicleId} has never been seen`);
      return c.json(await withVehicleName(sql, performance));
    })
    .get(
      "/vehicles/:vehicleId/series",
      validate("param", vehicleParam),
      validate("query", seriesQuery),
      // CSV answers from a step of its own, so the JSON handler's type stays the typed client's.
      async (c, next) => {
        c.header("Vary", "Accept");
        if (!wantsCsv(c, c.req.valid("query").format)) return next();
        return seriesCsv(c, await seriesOf(c.req.valid("param").vehicleId, c.req.valid("query")));
      },
      async (c) =>
        c.json(await withVehicleName(sql, await seriesOf(c.req.valid("param").vehicleId, c.req.valid("query")))),
    )
    .get(
      "/fleet",
      validate("query", fleetQuery),
      async (c, next) => {
        c.header("Vary", "Accept");
        const { window, format } = c.req.valid("query");
        if (!wantsCsv(c, format)) return next();
        const all: VehicleFigures[] = [];
        const view = await fleetView(
          sql,
          fleetCache,
          window,
          thresholds,
          {
            limit: 1,
            offset: 0,
            each: (figures) => all.push(figures),
          },
          now(),
        );
        return fleetCsv(c, sql, view, all);
      },
      async (c) => {
        const { window, limit, offset } = c.req.valid("query");
        return c.json(
          await withFleetNames(sql, await fleetView(sql, fleetCache, window, thresholds, { limit, offset }, now())),
        );
      },
    );
}
