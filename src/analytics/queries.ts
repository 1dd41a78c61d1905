// Analytics SQL. Each side is aggregated on its own (DC and temperature from the vehicle's
// readings, AC from its mapped meters' readings) and the two single-row results are then
// combined, so no join multiplies rows. Windows are half-open, [from, to), and filter on
// recorded_at, the partition key, so only the months in the window are read.
import type { Sql } from "../db/client.ts";

export interface Window {
  from: Date;
  to: Date;
}

export interface VehiclePerformance {
  isKnown: boolean;
  totalAcConsumption: number;
  totalDcDelivery: number;
  efficiencyRatio: number | null;
  avgBatteryTemp: number | null;
  dataPoints: number;
}

export async function vehiclePerformance(sql: Sql, vehicleId: string, window: Window): Promise<VehiclePerformance> {
  const [row] = await vehiclePerformanceQuery(sql, vehicleId, window);
  return row as VehiclePerformance;
}

/** The query itself, unawaited, so it can also be EXPLAINed. */
export function vehiclePerformanceQuery(sql: Sql, vehicleId: string, window: Window) {
  const from = window.from.toISOString();
  const to = window.to.toISOString();
  return sql<VehiclePerformance[]>`
    with dc as (
      select count(*)::int as data_points,
             coalesce(sum(kwh_delivered_dc), 0) as total,
             round(avg(battery_temp), 2) as avg_temp
      from vehicle_telemetry
      where vehicle_id = ${vehicleId}
        and recorded_at >= ${from}::timestamptz and recorded_at < ${to}::timestamptz
    ),
    ac as (
      select coalesce(sum(reading.kwh_consumed_ac), 0) as total
      from vehicle_meter_mapping mapping
      join meter_telemetry reading on reading.meter_id = mapping.meter_id
      where mapping.vehicle_id = ${vehicleId} and mapping.is_active
        and reading.recorded_at >= ${from}::timestamptz and reading.recorded_at < ${to}::timestamptz
    )
    select
      exists (select 1 from vehicle_state where vehicle_id = ${vehicleId})
        or exists (select 1 from vehicle_meter_mapping where vehicle_id = ${vehicleId}) as "isKnown",
      ac.total as "totalAcConsumption",
      dc.total as "totalDcDelivery",
      case when ac.total = 0 then null else round(dc.total / ac.total, 4) end as "efficiencyRatio",
      dc.avg_temp as "avgBatteryTemp",
      dc.data_points as "dataPoints"
    from dc cross join ac
  `;
}
