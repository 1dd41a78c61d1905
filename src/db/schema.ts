// The hot store: one row per device, upserted on every newer reading, read by dashboards.
// The cold store (monthly-partitioned history) cannot be declared here: it lives in the
// custom migration drizzle/0001_cold_store.sql.
import { sql } from "drizzle-orm";
import { boolean, check, index, numeric, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";

export const meterState = pgTable("meter_state", {
  meterId: uuid("meter_id").primaryKey(),
  kwhConsumedAc: numeric("kwh_consumed_ac", { precision: 10, scale: 3 }).notNull(),
  voltage: numeric("voltage", { precision: 6, scale: 2 }).notNull(),
  lastUpdated: timestamp("last_updated", { withTimezone: true }).notNull(),
});

export const vehicleState = pgTable("vehicle_state", {
  vehicleId: uuid("vehicle_id").primaryKey(),
  soc: numeric("soc", { precision: 5, scale: 2 }).notNull(),
  kwhDeliveredDc: numeric("kwh_delivered_dc", { precision: 10, scale: 3 }).notNull(),
  batteryTemp: numeric("battery_temp", { precision: 5, scale: 2 }).notNull(),
  lastUpdated: timestamp("last_updated", { withTimezone: true }).notNull(),
});

// When each vehicle's first reading was recorded (the earliest ever stored), kept by the
// rollup aggregator as it adds readings (src/rollups/rollup-sql.ts): a reading still
// pending is not in it yet, so readers take the lesser of this and the vehicle's pending
// readings, in one snapshot. Coverage counts expected readings from here (docs/design.md).
// A table of its own, not a column of vehicle_state: ingest never touches it, so the
// aggregator takes no lock an ingest transaction holds. Indexed on first_seen, for "which
// vehicles were first seen inside this window".
export const vehicleFirstSeen = pgTable(
  "vehicle_first_seen",
  {
    vehicleId: uuid("vehicle_id").primaryKey(),
    firstSeen: timestamp("first_seen", { withTimezone: true }).notNull(),
  },
  (table) => [index("vehicle_first_seen_first_seen_idx").on(table.firstSeen)],
);

// A link between a vehicle and a meter, valid over [linked_at, unlinked_at): a meter's AC
// counts toward a vehicle only while linked to it. A meter's first link reaches back over
// its whole history (linked_at = -infinity); an open link has unlinked_at = infinity.
// A pair may be linked several times, hence linked_at in the key.
export const vehicleMeterMapping = pgTable(
  "vehicle_meter_mapping",
  {
    vehicleId: uuid("vehicle_id").notNull(),
    meterId: uuid("meter_id").notNull(),
    linkedAt: timestamp("linked_at", { withTimezone: true, mode: "string" }).notNull().default(sql`'-infinity'`),
    unlinkedAt: timestamp("unlinked_at", { withTimezone: true, mode: "string" }).notNull().default(sql`'infinity'`),
    isActive: boolean("is_active").notNull().generatedAlwaysAs(sql`unlinked_at = 'infinity'`),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.vehicleId, table.meterId, table.linkedAt] }),
    index("vehicle_meter_mapping_meter_id_idx").on(table.meterId, table.linkedAt),
  ],
);

// API keys: only a SHA-256 hash of each secret is kept. A key reads `fk_<id>_<secret>`,
// so the row is found by id and the secret compared in constant time.
export const apiKeys = pgTable("api_keys", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  scopes: text("scopes").array().notNull(),
  secretHash: text("secret_hash").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  revokedAt: timestamp("revoked_at", { withTimezone: true }),
});

// What operators call a vehicle or a meter (a fleet number, a charger's bay): one row per
// named device, kept apart from the readings so naming a device never touches its state.
// Devices may be named before they first report.
export const deviceProfiles = pgTable(
  "device_profiles",
  {
    kind: text("kind", { enum: ["vehicle", "meter"] }).notNull(),
    deviceId: uuid("device_id").notNull(),
    name: text("name").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.kind, table.deviceId] }),
    check("device_profiles_kind_check", sql`${table.kind} in ('vehicle', 'meter')`),
    check("device_profiles_name_check", sql`char_length(${table.name}) between 1 and 100`),
  ],
);
