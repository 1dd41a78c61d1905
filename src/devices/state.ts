// The hot store, read: each device's latest reading, for live dashboards, with its name.
import { and, eq, getTableColumns } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import type { Db } from "../db/client.ts";
import { deviceProfiles, meterState, vehicleState } from "../db/schema.ts";
import { notFound } from "../http/errors.ts";
import { deviceIdSchema } from "../http/schemas.ts";
import { validate } from "../http/validate.ts";

export function stateRoutes(db: Db) {
  return new Hono()
    .get(
      "/vehicles/:vehicleId/state",
      validate("param", z.object({ vehicleId: deviceIdSchema.describe("The vehicle's id, a UUID") })),
      async (c) => {
        const { vehicleId } = c.req.valid("param");
        const [row] = await db
          .select({ ...getTableColumns(vehicleState), name: deviceProfiles.name })
          .from(vehicleState)
          .leftJoin(
            deviceProfiles,
            and(eq(deviceProfiles.kind, "vehicle"), eq(deviceProfiles.deviceId, vehicleState.vehicleId)),
          )
          .where(eq(vehicleState.vehicleId, vehicleId));
        if (!row) throw notFound(`vehicle ${vehicleId} has not reported`);
        return c.json({
          vehicleId: row.vehicleId,
          name: row.name,
          soc: Number(row.soc),
          kwhDeliveredDc: Number(row.kwhDeliveredDc),
          batteryTemp: Number(row.batteryTemp),
          lastUpdated: row.lastUpdated.toISOString(),
        });
      },
    )
    .get(
      "/meters/:meterId/state",
      validate("param", z.object({ meterId: deviceIdSchema.describe("The meter's id, a UUID") })),
      async (c) => {
        const { meterId } = c.req.valid("param");
        const [row] = await db
          .select({ ...getTableColumns(meterState), name: deviceProfiles.name })
          .from(meterState)
          .leftJoin(
            deviceProfiles,
            and(eq(deviceProfiles.kind, "meter"), eq(deviceProfiles.deviceId, meterState.meterId)),
          )
          .where(eq(meterState.meterId, meterId));
        if (!row) throw notFound(`meter ${meterId} has not reported`);
        return c.json({
          meterId: row.meterId,
          name: row.name,
          kwhConsumedAc: Number(row.kwhConsumedAc),
          voltage: Number(row.voltage),
          lastUpdated: row.lastUpdated.toISOString(),
        });
      },
    );
}
