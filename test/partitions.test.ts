// Monthly partitions: UTC month bounds, concurrent creation, no DEFAULT partition, recreation after a drop.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { Partitions, partitionName } from "../src/partitions/partitions.ts";
import { createTestDatabase, type TestDatabase } from "./support/database.ts";

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.drop();
});

describe("monthly partitions", () => {
  it("creates this month and the next two for both tables, with UTC month bounds", async () => {
    const partitions = new Partitions(database.sql);
    await partitions.createAhead(new Date("2026-11-30T23:00:00Z"), 2);
    const listed = await partitions.list();
    // Each raw partition has its hourly and daily rollups' twins, created together.
    for (const rollup of ["_hourly", "_daily"]) {
      expect(listed.filter((p) => p.table.endsWith(rollup)).map((p) => p.name.replace(rollup, "_telemetry"))).toEqual(
        listed.filter((p) => p.table.endsWith("_telemetry")).map((p) => p.name),
      );
    }
    expect(listed.filter((p) => p.table.endsWith("_telemetry")).map((p) => p.name)).toEqual([
      "meter_telemetry_y2026m11",
      "meter_telemetry_y2026m12",
      "meter_telemetry_y2027m01",
      "vehicle_telemetry_y2026m11",
      "vehicle_telemetry_y2026m12",
      "vehicle_telemetry_y2027m01",
    ]);
    // The service's own naming (partitionName) agrees with the SQL function's.
    expect(listed.map((p) => partitionName(p.table, p.from))).toEqual(listed.map((p) => p.name));
    const december = listed.find((p) => p.name === "meter_telemetry_y2026m12");
    expect(december?.from.toISOString()).toBe("2026-12-01T00:00:00.000Z");
    expect(december?.to.toISOString()).toBe("2027-01-01T00:00:00.000Z");
  });

  it("survives many processes creating the same partitions at once", async () => {
    const creators = Array.from({ length: 8 }, () => new Partitions(database.sql));
    const months = [new Date("2021-05-10Z"), new Date("2021-06-10Z"), new Date("2021-07-10Z")];
    await Promise.all(creators.map((partitions) => partitions.ensure("vehicle_telemetry", months)));
    const names = (await creators[0]?.list())?.map((p) => p.name) ?? [];
    expect(names.filter((name) => name.startsWith("vehicle_telemetry_y2021"))).toEqual([
      "vehicle_telemetry_y2021m05",
      "vehicle_telemetry_y2021m06",
      "vehicle_telemetry_y2021m07",
    ]);
  });

  it("has no DEFAULT partition: a month without one cannot take rows", async () => {
    const insert = database.sql`
      insert into meter_telemetry (meter_id, kwh_consumed_ac, voltage, recorded_at)
      values (gen_random_uuid(), 1, 230, '2011-01-01T00:00:00Z')
    `;
    await expect(insert).rejects.toThrow(/no partition of relation/);
  });

  it("refuses to partition a table that is not telemetry", async () => {
    await expect(database.sql`select create_telemetry_partition('meter_state', '2026-01-01')`).rejects.toThrow(
      /not a telemetry table/,
    );
  });

  it("recreates a partition dropped behind its back, on the next write", async () => {
    const { createDirectWriter } = await import("../src/telemetry/writer.ts");
    const partitions = new Partitions(database.sql);
    const writer = createDirectWriter(database.sql, partitions);
    const reading = (minute: number) => ({
      meterId: "00000000-0000-4000-8000-000000000001",
      kwhConsumedAc: 1,
      voltage: 230,
      timestamp: new Date(Date.UTC(2020, 2, 1, 0, minute)),
    });
    expect(await writer.writeMeter(reading(0))).toBe("stored");
    await database.sql`drop table meter_telemetry_y2020m03`;
    expect(await writer.writeMeter(reading(1))).toBe("stored");
  });
});
