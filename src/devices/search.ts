// GET /v1/search?q=: vehicles and meters by id (whole or its first characters) or by name
// (any part, any case), for the dashboard's search box. Bounded: at most `limit` results,
// and every part of the statement reads through an index (ids) or the small profiles table.
import { Hono } from "hono";
import { z } from "zod";
import type { Queryable, Sql } from "../db/client.ts";
import { validate } from "../http/validate.ts";

export const searchQuerySchema = z.object({
  q: z
    .string({ error: "is required" })
    .trim()
    .min(1, "must not be empty")
    .max(100, "must be at most 100 characters")
    .meta({
      description: "An id, the start of one (hyphens optional), or any part of a name",
      examples: ["van", "660e8400"],
    }),
  limit: z.coerce.number().int().min(1).max(50).default(20).meta({ description: "Results at most (1-50, default 20)" }),
});

export interface SearchResult {
  kind: "vehicle" | "meter";
  id: string;
  name: string | null;
}

/**
 * The UUID range every id starting with `text` falls in, or undefined when `text` cannot
 * start an id. A range (not `id::text like`) so the primary keys' indexes answer it.
 */
export function idRange(text: string): { low: string; high: string } | undefined {
  const hex = text.replaceAll("-", "").toLowerCase();
  if (!/^[0-9a-f]{1,32}$/.test(hex)) return undefined;
  const asUuid = (digits: string) =>
    `${digits.slice(0, 8)}-${digits.slice(8, 12)}-${digits.slice(12, 16)}-${digits.slice(16, 20)}-${digits.slice(20)}`;
  return { low: asUuid(hex.padEnd(32, "0")), high: asUuid(hex.padEnd(32, "f")) };
}

/** `text` inside an ILIKE pattern, matching itself only. */
const likeContaining = (text: string) => `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;

export async function searchDevices(sql: Queryable, q: string, limit: number): Promise<SearchResult[]> {
  const range = idRange(q);
  // Each source is cut at `limit` before the union, so no part reads more than it may answer.
  const idMatches = range
    ? sql`
      (select 'vehicle' as kind, vehicle_id as id from vehicle_state
        where vehicle_id between ${range.low}::uuid and ${range.high}::uuid order by 2 limit ${limit})
      union (select 'vehicle', vehicle_id from vehicle_meter_mapping
        where vehicle_id between ${range.low}::uuid and ${range.high}::uuid order by 2 limit ${limit})
      union (select 'meter', meter_id from meter_state
        where meter_id between ${range.low}::uuid and ${range.high}::uuid order by 2 limit ${limit})
      union (select 'meter', meter_id from vehicle_meter_mapping
        where meter_id between ${range.low}::uuid and ${range.high}::uuid order by 2 limit ${limit})
      union (select kind, device_id from device_profiles
        where device_id between ${range.low}::uuid and ${range.high}::uuid order by 2 limit ${limit})
    `
    : sql`select null::text as kind, null::uuid as id where false`;
  const exact = range && range.low === range.high ? range.low : null;
  return sql<SearchResult[]>`
    with by_id as (${idMatches}),
    by_name as (
      select kind, device_id as id from device_profiles
      where name ilike ${likeContaining(q)} order by name limit ${limit}
    ),
    found as (
      select kind, id, case when id = ${exact}::uuid then 0 else 1 end as rank from by_id
      union all
      select kind, id, 2 from by_name
    )
    select f.kind, f.id::text as id, p.name
    from (select kind, id, min(rank) as rank from found group by kind, id) f
    left join device_profiles p on p.kind = f.kind and p.device_id = f.id
    order by f.rank, f.kind desc, p.name nulls last, f.id
    limit ${limit}
  `;
}

export function searchRoutes(sql: Sql) {
  return new Hono().get("/", validate("query", searchQuerySchema), async (c) => {
    const { q, limit } = c.req.valid("query");
    const results = await searchDevices(sql, q, limit);
    return c.json({ results: results.map(({ kind, id, name }) => ({ kind, id, name })) }, 200);
  });
}
