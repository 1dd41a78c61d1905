// The hot store: one row per device, upserted on every newer reading, read by dashboards.
// The cold store (monthly-partitioned history) cannot be declared here: it lives in the
// custom migration drizzle/0001_cold_store.sql.
import { boolean, numeric, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";

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

export const vehicleMeterMapping = pgTable(
  "vehicle_meter_mapping",
  {
    vehicleId: uuid("vehicle_id").notNull(),
    meterId: uuid("meter_id").notNull(),
    isActive: boolean("is_active").notNull().default(true),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [primaryKey({ columns: [table.vehicleId, table.meterId] })],
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
