// Which meters feed which vehicle, and when. A link is valid over [linkedAt, unlinkedAt):
// a meter's AC counts toward a vehicle only while linked to it, so history stays right
// after a meter moves. POST links (a meter's first link reaches back over its whole
// history, so linking after data arrived works; later links start at the request time
// unless `linkedAt` says otherwise), and moving a meter closes its link elsewhere where the
// new one starts. DELETE closes a link. A meter's links never overlap: a link that would
// is refused with 409.
import { Hono } from "hono";
import { z } from "zod";
import type { Queryable, Sql } from "../db/client.ts";
import { AppError, notFound } from "../http/errors.ts";
import { limitBody, requireJson } from "../http/middleware.ts";
import { deviceIdSchema, instantSchema } from "../http/schemas.ts";
import { validate } from "../http/validate.ts";

const instant = instantSchema("2026-02-09T14:00:00Z");

const vehicleId = deviceIdSchema.describe("The vehicle's id, a UUID");
const meterId = deviceIdSchema.describe("The meter's id, a UUID");
const pairSchema = z.object({ vehicleId, meterId });
const linkSchema = pairSchema.extend({
  linkedAt: instant
    .optional()
    .describe(
      "When the link starts (ISO-8601 with a zone). Default: the start of the meter's history for its first link, else now",
    ),
});
const unlinkSchema = z.object({
  unlinkedAt: instant.optional().describe("When the link ends (ISO-8601 with a zone); default: now"),
});
const listQuerySchema = z.object({
  vehicleId: vehicleId.optional().describe("Only this vehicle's links"),
  meterId: meterId.optional().describe("Only this meter's links"),
  active: z
    .enum(["true", "false"], { error: "must be true or false" })
    .optional()
    .describe("true: only open links; false: only closed ones; default: both"),
  limit: z.coerce.number().int().min(1).max(1000).default(1000).describe("Links to answer at most (count)"),
});

interface LinkRow {
  vehicle_id: string;
  meter_id: string;
  linked_ms: number;
  unlinked_ms: number;
  is_active: boolean;
  created_ms: number;
  updated_ms: number;
  vehicle_name: string | null;
  meter_name: string | null;
}

// Instants as epoch milliseconds (±Infinity for the open ends), so JavaScript compares them.
const LINK_COLUMNS = (sql: Queryable) => sql`
  vehicle_id, meter_id, is_active,
  (extract(epoch from linked_at) * 1000)::float8 as linked_ms,
  (extract(epoch from unlinked_at) * 1000)::float8 as unlinked_ms,
  (extract(epoch from created_at) * 1000)::float8 as created_ms,
  (extract(epoch from updated_at) * 1000)::float8 as updated_ms,
  (select name from device_profiles where kind = 'vehicle' and device_id = vehicle_id) as vehicle_name,
  (select name from device_profiles where kind = 'meter' and device_id = meter_id) as meter_name
`;

const isoOrEdge = (ms: number, open: "null-if-negative" | "null-if-positive") => {
  if (ms === Number.NEGATIVE_INFINITY) return open === "null-if-negative" ? null : "-infinity";
  if (ms === Number.POSITIVE_INFINITY) return open === "null-if-positive" ? null : "infinity";
  return new Date(ms).toISOString();
};

const present = (row: LinkRow) => ({
  vehicleId: row.vehicle_id,
  vehicleName: row.vehicle_name,
  meterId: row.meter_id,
  meterName: row.meter_name,
  linkedAt: isoOrEdge(row.linked_ms, "null-if-negative"),
  unlinkedAt: isoOrEdge(row.unlinked_ms, "null-if-positive"),
  isActive: row.is_active,
  createdAt: new Date(row.created_ms).toISOString(),
  updatedAt: new Date(row.updated_ms).toISOString(),
});

const conflict = (message: string) => new AppError(409, "link_conflict", message);
const pgInstant = (ms: number) =>
  ms === Number.NEGATIVE_INFINITY
    ? "-infinity"
    : ms === Number.POSITIVE_INFINITY
      ? "infinity"
      : new Date(ms).toISOString();

export function mappingRoutes(sql: Sql, now: () => Date) {
  return new Hono()
    .post("/", requireJson, limitBody(4096), validate("json", linkSchema), async (c) => {
      const { vehicleId, meterId, linkedAt } = c.req.valid("json");
      const [status, row] = await sql.begin(async (tx) => {
        // One meter's links change one request at a time.
        await tx`select pg_advisory_xact_lock(hashtext(${meterId}))`;
        const links = await tx<LinkRow[]>`
          select ${LINK_COLUMNS(tx)} from vehicle_meter_mapping
          where meter_id = ${meterId} order by linked_at
        `;
        const same = links.find((link) => link.vehicle_id === vehicleId && link.is_active);
        if (same) return [200, same] as const;
        const start = linkedAt?.getTime() ?? (links.length === 0 ? Number.NEGATIVE_INFINITY : now().getTime());
        for (const link of links) {
          if (link.is_active && link.linked_ms < start) continue; // closed below, where the new link starts
          if (link.unlinked_ms > start) {
            const since = isoOrEdge(link.linked_ms, "null-if-negative") ?? "the start of its history";
            throw conflict(
              `meter ${meterId} is linked to vehicle ${link.vehicle_id} from ${since}; a new link cannot start before that link ends`,
            );
          }
        }
        await tx`
          update vehicle_meter_mapping
          set unlinked_at = ${pgInstant(start)}::timestamptz, updated_at = now()
          where meter_id = ${meterId} and is_active
        `;
        const [inserted] = await tx<LinkRow[]>`
          insert into vehicle_meter_mapping (vehicle_id, meter_id, linked_at)
          values (${vehicleId}, ${meterId}, ${pgInstant(start)}::timestamptz)
          returning ${LINK_COLUMNS(tx)}
        `;
        return [201, inserted as LinkRow] as const;
      });
      return c.json(present(row), status);
    })
    .delete("/:vehicleId/:meterId", validate("param", pairSchema), validate("query", unlinkSchema), async (c) => {
      const { vehicleId, meterId } = c.req.valid("param");
      const end = (c.req.valid("query").unlinkedAt ?? now()).toISOString();
      const row = await sql.begin(async (tx) => {
        await tx`select pg_advisory_xact_lock(hashtext(${meterId}))`;
        const [latest] = await tx<LinkRow[]>`
          select ${LINK_COLUMNS(tx)} from vehicle_meter_mapping
          where vehicle_id = ${vehicleId} and meter_id = ${meterId}
          order by linked_at desc limit 1
        `;
        if (!latest) throw notFound(`vehicle ${vehicleId} and meter ${meterId} were never linked`);
        if (!latest.is_active) return latest; // already closed: deleting again changes nothing
        if (new Date(end).getTime() <= latest.linked_ms) {
          throw new AppError(400, "validation_failed", "unlinkedAt must be after the link's linkedAt", [
            { field: "unlinkedAt", message: "must be after the link's linkedAt" },
          ]);
        }
        const [closed] = await tx<LinkRow[]>`
          update vehicle_meter_mapping set unlinked_at = ${end}::timestamptz, updated_at = now()
          where vehicle_id = ${vehicleId} and meter_id = ${meterId} and is_active
          returning ${LINK_COLUMNS(tx)}
        `;
        return closed as LinkRow;
      });
      return c.json(present(row), 200);
    })
    .get("/", validate("query", listQuerySchema), async (c) => {
      const { vehicleId, meterId, active, limit } = c.req.valid("query");
      const rows = await sql<LinkRow[]>`
        select ${LINK_COLUMNS(sql)} from vehicle_meter_mapping
        where true
          ${vehicleId ? sql`and vehicle_id = ${vehicleId}` : sql``}
          ${meterId ? sql`and meter_id = ${meterId}` : sql``}
          ${active ? sql`and is_active = ${active === "true"}` : sql``}
        order by vehicle_id, meter_id, linked_at
        limit ${limit}
      `;
      return c.json({ mappings: rows.map(present) });
    });
}
