// Names for vehicles and meters: PUT and GET /v1/vehicles/:vehicleId/profile and
// /v1/meters/:meterId/profile, and the look-up that puts a name beside every id the API
// answers with. A device may be named before it first reports; a name is what operators
// call it (a fleet number, a charger's bay), never a key: ids stay the only identity.
import { Hono } from "hono";
import { z } from "zod";
import { arrayLiteral, type Queryable, type Sql } from "../db/client.ts";
import { notFound } from "../http/errors.ts";
import { limitBody, requireJson } from "../http/middleware.ts";
import { deviceIdSchema, typeError } from "../http/schemas.ts";
import { validate } from "../http/validate.ts";

export type DeviceKind = "vehicle" | "meter";

// Control characters would break a CSV line or a table cell; nothing legitimate needs them.
const CONTROL = /\p{Cc}/u;

export const profileBodySchema = z.object({
  name: z
    .string({ error: typeError("must be a string") })
    .trim()
    .min(1, "must not be empty")
    .max(100, "must be at most 100 characters")
    .refine((name) => !CONTROL.test(name), "must not contain control characters")
    .meta({ description: "What operators call the device, 1-100 characters once trimmed", examples: ["Van 042"] }),
});

interface ProfileRow {
  deviceId: string;
  name: string;
  updatedMs: number;
  isNew: boolean;
}

// As epoch milliseconds, as mappings.ts reads instants: Drizzle, sharing the client, has
// the driver hand timestamps over as text.
const UPDATED_MS = (sql: Queryable) => sql`(extract(epoch from updated_at) * 1000)::float8 as "updatedMs"`;

async function storeProfile(sql: Sql, kind: DeviceKind, deviceId: string, name: string) {
  // xmax is 0 only on a row this statement inserted: how a PUT tells created from replaced.
  const [row] = await sql<ProfileRow[]>`
    insert into device_profiles (kind, device_id, name)
    values (${kind}, ${deviceId}, ${name})
    on conflict (kind, device_id) do update set name = excluded.name, updated_at = now()
    returning device_id as "deviceId", name, ${UPDATED_MS(sql)}, (xmax = 0) as "isNew"
  `;
  return row as ProfileRow;
}

async function readProfile(sql: Queryable, kind: DeviceKind, deviceId: string) {
  const [row] = await sql<ProfileRow[]>`
    select device_id as "deviceId", name, ${UPDATED_MS(sql)}
    from device_profiles where kind = ${kind} and device_id = ${deviceId}
  `;
  return row;
}

/** Each id's name, null where the device has none; one statement for any number of ids. */
export async function namesOf(sql: Queryable, kind: DeviceKind, ids: Iterable<string>) {
  const wanted = [...new Set(ids)];
  const names = new Map<string, string | null>(wanted.map((id) => [id, null]));
  if (wanted.length === 0) return names;
  const rows = await sql<{ deviceId: string; name: string }[]>`
    select device_id as "deviceId", name from device_profiles
    where kind = ${kind} and device_id = any(${arrayLiteral(wanted)}::uuid[])
  `;
  for (const row of rows) names.set(row.deviceId, row.name);
  return names;
}

/** The device's name, or null. */
export async function nameOf(sql: Queryable, kind: DeviceKind, id: string) {
  return (await namesOf(sql, kind, [id])).get(id) ?? null;
}

const vehicleParam = z.object({ vehicleId: deviceIdSchema });
const meterParam = z.object({ meterId: deviceIdSchema });

export function profileRoutes(sql: Sql) {
  const vehicleAnswer = (row: ProfileRow) => ({
    vehicleId: row.deviceId,
    name: row.name,
    updatedAt: new Date(row.updatedMs).toISOString(),
  });
  const meterAnswer = (row: ProfileRow) => ({
    meterId: row.deviceId,
    name: row.name,
    updatedAt: new Date(row.updatedMs).toISOString(),
  });
  return new Hono()
    .put(
      "/vehicles/:vehicleId/profile",
      requireJson,
      limitBody(4096),
      validate("param", vehicleParam),
      validate("json", profileBodySchema),
      async (c) => {
        const row = await storeProfile(sql, "vehicle", c.req.valid("param").vehicleId, c.req.valid("json").name);
        return c.json(vehicleAnswer(row), row.isNew ? 201 : 200);
      },
    )
    .get("/vehicles/:vehicleId/profile", validate("param", vehicleParam), async (c) => {
      const { vehicleId } = c.req.valid("param");
      const row = await readProfile(sql, "vehicle", vehicleId);
      if (!row) throw notFound(`vehicle ${vehicleId} has no profile`);
      return c.json(vehicleAnswer(row), 200);
    })
    .put(
      "/meters/:meterId/profile",
      requireJson,
      limitBody(4096),
      validate("param", meterParam),
      validate("json", profileBodySchema),
      async (c) => {
        const row = await storeProfile(sql, "meter", c.req.valid("param").meterId, c.req.valid("json").name);
        return c.json(meterAnswer(row), row.isNew ? 201 : 200);
      },
    )
    .get("/meters/:meterId/profile", validate("param", meterParam), async (c) => {
      const { meterId } = c.req.valid("param");
      const row = await readProfile(sql, "meter", meterId);
      if (!row) throw notFound(`meter ${meterId} has no profile`);
      return c.json(meterAnswer(row), 200);
    });
}
