// The SQL the rollups run, snapshotted per statement, so a review sees each change to what the database runs.
import { describe, expect, it } from "bun:test";
import {
  aggregateStatements,
  METER_PENDING,
  METER_ROLLUPS,
  VEHICLE_FIRST_SEEN,
  VEHICLE_PENDING,
  VEHICLE_ROLLUPS,
} from "../src/rollups/rollup-sql.ts";

describe("generated rollup SQL", () => {
  it("appends stored readings to the pending tables", () => {
    expect(METER_PENDING).toMatchSnapshot();
    expect(VEHICLE_PENDING).toMatchSnapshot();
  });

  it("adds readings to the hourly and daily rollups", () => {
    expect(METER_ROLLUPS).toMatchSnapshot();
    expect(VEHICLE_ROLLUPS).toMatchSnapshot();
  });

  it("keeps when each vehicle was first seen", () => {
    expect(VEHICLE_FIRST_SEEN).toMatchSnapshot();
  });

  it("moves pending rows in one statement (delete) or three (mark)", () => {
    for (const kind of ["meter", "vehicle"] as const) {
      expect(aggregateStatements(kind, "delete")).toMatchSnapshot();
      expect(aggregateStatements(kind, "mark")).toMatchSnapshot();
    }
    expect(aggregateStatements("meter", "delete")).toHaveLength(1);
    expect(aggregateStatements("meter", "mark").map((statement) => statement.params)).toEqual([
      ["limit", "run"],
      ["run"],
      ["run"],
    ]);
  });
});
