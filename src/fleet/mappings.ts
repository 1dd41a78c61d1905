// Which meters feed which vehicle: POST links (or re-activates) a pair, DELETE deactivates
// it, GET lists. A link is not tied to a time, so a meter's readings from before the link
// count toward the vehicle as soon as it is linked.
import { and, asc, eq, sql } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import type { Db } from "../db/client.ts";
import { vehicleMeterMapping } from "../db/schema.ts";
import { notFound } from "../http/errors.ts";
import { limitBody, requireJson } from "../http/middleware.ts";
import { validate } from "../http/validate.ts";
import { deviceIdSchema } from "../telemetry/schemas.ts";

const pairSchema = z.object({ vehicleId: deviceIdSchema, meterId: deviceIdSchema });

const listQuerySchema = z.object({
  vehicleId: deviceIdSchema.optional(),
  meterId: deviceIdSchema.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(1000),
});

type MappingRow = typeof vehicleMeterMapping.$inferSelect;

const present = (row: MappingRow) => ({
  vehicleId: row.vehicleId,
  meterId: row.meterId,
  isActive: row.isActive,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

const byPair = (pair: z.infer<typeof pairSchema>) =>
  and(eq(vehicleMeterMapping.vehicleId, pair.vehicleId), eq(vehicleMeterMapping.meterId, pair.meterId));

export function mappingRoutes(db: Db) {
  return new Hono()
    .post("/", requireJson, limitBody(4096), validate("json", pairSchema), async (c) => {
      const pair = c.req.valid("json");
      // Only a new or re-activated link is written; an active one is left as it is.
      const [changed] = await db
        .insert(vehicleMeterMapping)
        .values({ ...pair, isActive: true })
        .onConflictDoUpdate({
          target: [vehicleMeterMapping.vehicleId, vehicleMeterMapping.meterId],
          set: { isActive: true, updatedAt: sql`now()` },
          setWhere: eq(vehicleMeterMapping.isActive, false),
        })
        .returning();
      if (changed) return c.json(present(changed), 201);
      const [existing] = await db.select().from(vehicleMeterMapping).where(byPair(pair));
      return c.json(present(existing as MappingRow), 200);
    })
    .delete("/:vehicleId/:meterId", validate("param", pairSchema), async (c) => {
      const pair = c.req.valid("param");
      const [row] = await db
        .update(vehicleMeterMapping)
        .set({ isActive: false, updatedAt: sql`now()` })
        .where(byPair(pair))
        .returning();
      if (!row) throw notFound(`no mapping between vehicle ${pair.vehicleId} and meter ${pair.meterId}`);
      return c.json(present(row), 200);
    })
    .get("/", validate("query", listQuerySchema), async (c) => {
      const { vehicleId, meterId, limit } = c.req.valid("query");
      const rows = await db
        .select()
        .from(vehicleMeterMapping)
        .where(
          and(
            vehicleId ? eq(vehicleMeterMapping.vehicleId, vehicleId) : undefined,
            meterId ? eq(vehicleMeterMapping.meterId, meterId) : undefined,
          ),
        )
        .orderBy(asc(vehicleMeterMapping.vehicleId), asc(vehicleMeterMapping.meterId))
        .limit(limit);
      return c.json({ mappings: rows.map(present) });
    });
}
