// Every SQL text that maintains the rollups, generated here so reviews can read what the
// database runs (test/rollups-sql.test.ts keeps a snapshot of each).
//
// - The request's transaction appends each reading it really stored (a `stored` CTE, so
//   replays add nothing) to a pending table: `METER_PENDING` / `VEHICLE_PENDING`.
// - The aggregator (src/rollups/aggregator.ts) moves pending rows into the rollups, in one
//   transaction: `aggregateStatements`. Its rollup CTEs read a `stored` CTE too, so the same
//   texts serve the benchmark's store generator (bench/fleet-store.ts), which writes
//   rollups directly.
// - Hourly (`*_hourly`): one row per device and UTC hour, for hours and series.
// - Daily (`*_daily`): one row per device and UTC day, each hour's sums in columns of
//   their own (`ac_wh_00` … `ac_wh_23`, `readings_00` …, `temp_max_00` …), so a reading is
//   added with plain additions and the fleet view reads two rows per device for 24 hours
//   instead of 24. Energy is in Wh and temperatures in hundredths of a degree: the
//   readings' own scales (3 and 2 decimals), so the integers are exact. `changed_xid`
//   names the transaction that last wrote the row (its 64-bit id as int8, which BRIN can
//   index), for the fleet cache (src/analytics/fleet-cache.ts).
// - First seen (`vehicle_first_seen`): each vehicle's earliest reading, lowered only by an
//   older one (a backfill) and otherwise only read, so a run writes it once per new vehicle.

const HOUR_OF_DAY = "extract(hour from hour at time zone 'UTC')::int";

/** The hours of a day as column suffixes, 00 to 23. */
export const HOURS_OF_DAY = Array.from({ length: 24 }, (_, hour) => String(hour).padStart(2, "0"));
const eachHour = (column: (hour: string, index: number) => string) => HOURS_OF_DAY.map(column).join(",\n      ");

interface HourField {
  /** Column prefix in the daily table: `${prefix}_00` … `${prefix}_23`. */
  prefix: string;
  /** The hour's value, from a row of the hourly CTE. */
  value: string;
  cast: string;
  /** Hours add up; maxima keep the greatest (NULL: no reading that hour). */
  combine: "sum" | "max";
}

/**
 * The CTEs adding the hourly CTE `hours` (one row per device and UTC hour) to `table`, one
 * row per device and day. A device seen in one hour of a day, as live readings are, gets
 * its row from plain CASE expressions; only a device with several hours of one day in the
 * statement (a backfill) is aggregated, which costs about ten times more per row.
 */
function dailyRollup(table: string, device: string, hours: string, fields: HourField[]): string {
  const dayOf = "date_trunc('day', hour, 'UTC')";
  const single = fields.map((field) =>
    eachHour((_, hour) =>
      field.combine === "sum"
        ? `(case when hour_of_day = ${hour} then ${field.value} else 0 end)::${field.cast}`
        : `(case when hour_of_day = ${hour} then ${field.value} end)::${field.cast}`,
    ),
  );
  const several = fields.map((field) =>
    eachHour((_, hour) => {
      const value = `${field.combine}(${field.value}) filter (where hour_of_day = ${hour})`;
      return field.combine === "sum" ? `coalesce(${value}, 0)::${field.cast}` : `(${value})::${field.cast}`;
    }),
  );
  const updates = fields.map((field) =>
    eachHour((hour) => {
      const [stored, added] = [`${table}.${field.prefix}_${hour}`, `excluded.${field.prefix}_${hour}`];
      return `${field.prefix}_${hour} = ${field.combine === "sum" ? `${stored} + ${added}` : `greatest(${stored}, ${added})`}`;
    }),
  );
  return `
  ${table}_hours as (
    select *, ${dayOf} as day, ${HOUR_OF_DAY} as hour_of_day,
           count(*) over (partition by ${device}, ${dayOf}) as hours_that_day
    from ${hours}
  ),
  ${table}_rollup as (
    insert into ${table} (${device}, day,
      ${fields.map((field) => names(field.prefix)).join(",\n      ")})
    select ${device}, day,
      ${single.join(",\n      ")}
    from ${table}_hours where hours_that_day = 1
    union all
    select ${device}, day,
      ${several.join(",\n      ")}
    from ${table}_hours where hours_that_day > 1
    group by 1, 2
    order by 2, 1
    on conflict (day, ${device}) do update set
      ${updates.join(",\n      ")},
      changed_xid = pg_current_xact_id()::text::int8
  )`;
}

const names = (prefix: string) => eachHour((hour) => `${prefix}_${hour}`);

export const METER_ROLLUPS = `
  meter_hours as (
    select meter_id, date_trunc('hour', recorded_at, 'UTC') as hour, sum(kwh_consumed_ac) as kwh_consumed_ac,
           count(*)::int as readings
    from stored
    group by 1, 2
  ),
  meter_hourly_rollup as (
    insert into meter_hourly (meter_id, hour, kwh_consumed_ac, readings)
    select meter_id, hour, kwh_consumed_ac, readings from meter_hours
    order by 1, 2
    on conflict (meter_id, hour) do update set
      kwh_consumed_ac = meter_hourly.kwh_consumed_ac + excluded.kwh_consumed_ac,
      readings = meter_hourly.readings + excluded.readings
  ),
  ${dailyRollup("meter_daily", "meter_id", "meter_hours", [
    { prefix: "ac_wh", value: "(kwh_consumed_ac * 1000)", cast: "int8", combine: "sum" },
    { prefix: "readings", value: "readings", cast: "int4", combine: "sum" },
  ])}`;

export const VEHICLE_ROLLUPS = `
  vehicle_hours as (
    select vehicle_id, date_trunc('hour', recorded_at, 'UTC') as hour, sum(kwh_delivered_dc) as kwh_delivered_dc,
           count(*)::int as readings, sum(battery_temp) as battery_temp_sum, min(battery_temp) as battery_temp_min,
           max(battery_temp) as battery_temp_max, min(soc) as soc_min, max(soc) as soc_max
    from stored
    group by 1, 2
  ),
  vehicle_hourly_rollup as (
    insert into vehicle_hourly (vehicle_id, hour, kwh_delivered_dc, readings, battery_temp_sum,
                                battery_temp_min, battery_temp_max, soc_min, soc_max)
    select vehicle_id, hour, kwh_delivered_dc, readings, battery_temp_sum, battery_temp_min, battery_temp_max,
           soc_min, soc_max
    from vehicle_hours
    order by 1, 2
    on conflict (vehicle_id, hour) do update set
      kwh_delivered_dc = vehicle_hourly.kwh_delivered_dc + excluded.kwh_delivered_dc,
      readings = vehicle_hourly.readings + excluded.readings,
      battery_temp_sum = vehicle_hourly.battery_temp_sum + excluded.battery_temp_sum,
      battery_temp_min = least(vehicle_hourly.battery_temp_min, excluded.battery_temp_min),
      battery_temp_max = greatest(vehicle_hourly.battery_temp_max, excluded.battery_temp_max),
      soc_min = least(vehicle_hourly.soc_min, excluded.soc_min),
      soc_max = greatest(vehicle_hourly.soc_max, excluded.soc_max)
  ),
  ${dailyRollup("vehicle_daily", "vehicle_id", "vehicle_hours", [
    { prefix: "dc_wh", value: "(kwh_delivered_dc * 1000)", cast: "int8", combine: "sum" },
    { prefix: "readings", value: "readings", cast: "int4", combine: "sum" },
    { prefix: "temp_max", value: "(battery_temp_max * 100)", cast: "int4", combine: "max" },
  ])}`;

/** The CTE lowering each vehicle's first seen to its earliest reading in `stored` (see the header). */
export const VEHICLE_FIRST_SEEN = `
  vehicle_first_seen_rollup as (
    insert into vehicle_first_seen (vehicle_id, first_seen)
    select earliest.vehicle_id, earliest.first_seen
    from (select vehicle_id, min(recorded_at) as first_seen from stored group by 1) earliest
    where not exists (
      select 1 from vehicle_first_seen known
      where known.vehicle_id = earliest.vehicle_id and known.first_seen <= earliest.first_seen
    )
    order by 1
    on conflict (vehicle_id) do update set first_seen = least(vehicle_first_seen.first_seen, excluded.first_seen)
  )`;

export type Kind = "meter" | "vehicle";

/** The columns a pending row carries: what the rollups need of a reading. */
const PENDING_COLUMNS: Record<Kind, string> = {
  meter: "meter_id, recorded_at, kwh_consumed_ac",
  vehicle: "vehicle_id, recorded_at, soc, kwh_delivered_dc, battery_temp",
};

/** The CTE appending the readings of `stored` to the pending table: no conflict, no update. */
const pendingInsert = (kind: Kind) => `
  pending as (
    insert into ${kind}_pending (${PENDING_COLUMNS[kind]})
    select ${PENDING_COLUMNS[kind]} from stored
  )`;
export const METER_PENDING = pendingInsert("meter");
export const VEHICLE_PENDING = pendingInsert("vehicle");

const ROLLUPS: Record<Kind, string> = { meter: METER_ROLLUPS, vehicle: `${VEHICLE_ROLLUPS},${VEHICLE_FIRST_SEEN}` };
const DEVICE: Record<Kind, string> = { meter: "meter_id", vehicle: "vehicle_id" };

/** How the aggregator takes the pending rows it adds. */
export type Claim = "delete" | "mark";

/** A statement and the values its parameters take, in order. */
export interface Statement {
  text: string;
  params: ("limit" | "run")[];
}

/**
 * The aggregator's statements for one kind, run in order in one transaction; `limit` is
 * the most rows one run takes, `run` the run's id. The statement adding the rows answers
 * (readings, hourly_rows, daily_rows): the readings added and the rollup rows they became,
 * which shows how many readings of a device-hour were folded into one update.
 *
 * - `delete`: one statement, `delete … returning` feeding the rollup CTEs. The fewest
 *   passes over the pending rows; used on plain PostgreSQL.
 * - `mark`: claim (`update … set run`), add the claimed rows, delete them. Three
 *   statements where the one above is a single delete feeding its rows onward: the
 *   starting point of the form a distributed database can run on its workers
 *   (docs/scaling.md gives that form, and why these texts do not push down as they are).
 */
export function aggregateStatements(kind: Kind, claim: Claim): Statement[] {
  const device = DEVICE[kind];
  const some = `(${device}, recorded_at) in (select ${device}, recorded_at from ${kind}_pending limit $1)`;
  const answer = `
  select (select count(*) from stored)::int8 as readings,
         (select count(*) from ${kind}_hours)::int8 as hourly_rows,
         (select count(*) from ${kind}_daily_hours where hours_that_day = 1)::int8
           + (select count(distinct (${device}, day)) from ${kind}_daily_hours where hours_that_day > 1)::int8 as daily_rows`;
  if (claim === "delete") {
    const text = `with stored as (
    delete from ${kind}_pending
    where ${some}
    returning ${PENDING_COLUMNS[kind]}
  ),${ROLLUPS[kind]}${answer}`;
    return [{ text, params: ["limit"] }];
  }
  return [
    { text: `update ${kind}_pending set run = $2 where run is null and ${some}`, params: ["limit", "run"] },
    {
      text: `with stored as (
    select ${PENDING_COLUMNS[kind]} from ${kind}_pending where run = $1
  ),${ROLLUPS[kind]}${answer}`,
      params: ["run"],
    },
    { text: `delete from ${kind}_pending where run = $1`, params: ["run"] },
  ];
}
