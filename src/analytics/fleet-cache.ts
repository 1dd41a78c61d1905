// The fleet view of the last day or two, kept up to date in memory rather than summed
// again for every request. Dashboards ask for the fleet over the last 24 hours every few
// seconds; adding up 10,000 vehicles' and 10,000 meters' rollups each time costs more
// than the request may take, while only the devices that reported since the last request
// changed. So this keeps the daily rollup rows of the days asked for, and the links, and
// on each request reads only what changed since, in one snapshot:
//
// - Every daily rollup row and link carries the id of the transaction that last wrote it
//   (`changed_xid`). A snapshot's xmin is the oldest transaction still running when it was
//   taken: every write by an older transaction was already visible to it. So the rows
//   with changed_xid >= the previous snapshot's xmin are all that can differ from what was
//   read then, including writes that were in flight at that moment. A BRIN index on the
//   daily rows' changed_xid (migration 0008) leads to the pages holding them.
// - Rows are never deleted one by one: a month goes by dropping its partition, and a
//   TRUNCATE gives the table new storage. A partition whose storage (relfilenode) is not
//   the one read last time is read again whole; so is the link table.
//
// - Readings not yet in the daily rows (pending for the aggregator) are read afresh for
//   every request, in the same snapshot, summed per device over the window, and added.
//
// The figures are then computed here exactly as fleetPart computes them in SQL (the
// property test holds both to sums over raw rows). Windows over more than a few days are
// left to SQL: holding every device's rows for a month would take too much memory.
import type { Queryable, Sql } from "../db/client.ts";
import { inOneSnapshot } from "../db/snapshot.ts";
import { DAY_MS } from "../time.ts";
import { type DayColumns, Devices, readDays } from "./day-columns.ts";
import type { Window } from "./energy.ts";
import { firstSeenQuery } from "./first-seen.ts";
import {
  dailyPieces,
  type FleetEnergy,
  type FleetVehicleEnergy,
  type PendingEnergy,
  partialLinkEnergyQuery,
  pendingEnergyQuery,
  type UnlinkedMeterEnergy,
} from "./fleet-sql.ts";
import { linkGapEnergyQuery } from "./unlinked-sql.ts";

/** Windows touching at most this many UTC days are served from the cache. */
export const CACHED_DAYS = 3;

/** The links, by device number. */
interface Links {
  vehicle: Int32Array;
  meter: Int32Array;
  linkedMs: Float64Array;
  unlinkedMs: Float64Array;
}

export class FleetCache {
  private horizon: string | undefined;
  private readonly vehicles = new Devices();
  private readonly meters = new Devices();
  private vehicleDays = new Map<number, DayColumns>();
  private meterDays = new Map<number, DayColumns>();
  private links: Links = {
    vehicle: new Int32Array(),
    meter: new Int32Array(),
    linkedMs: new Float64Array(),
    unlinkedMs: new Float64Array(),
  };
  private linkStorage: number | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly sql: Sql) {}

  /** The window's figures, or undefined for a window over more days than it keeps. */
  async energy(window: Window): Promise<FleetEnergy | undefined> {
    const pieces = dailyPieces(window);
    const dayCount = (pieces.lastDay.getTime() - pieces.firstDay.getTime()) / DAY_MS + 1;
    if (dayCount > CACHED_DAYS) return undefined;
    const dayList = Array.from({ length: dayCount }, (_, i) => pieces.firstDay.getTime() + i * DAY_MS);
    // One refresh at a time; each computes from the state it left, before anything else runs.
    const run = this.queue.then(async () => {
      const beyondDays = await this.refresh(dayList, window);
      return this.compute(dayList, pieces.lo, pieces.hi, window, beyondDays);
    });
    this.queue = run.catch(() => {});
    return run;
  }

  /**
   * Brings the kept days and links up to date, and answers what this request adds beyond
   * them: the energy of links starting or ending inside the window and of the gaps between
   * them, the readings still pending (once aggregated they come back as changed daily
   * rows, so none is kept), and the vehicles first seen inside the window. All in one
   * snapshot, over up to three connections at once.
   */
  private async refresh(dayList: number[], window: Window): Promise<BeyondDays> {
    const horizon = this.horizon;
    const [vehicles, meters, links] = await inOneSnapshot<
      [
        Awaited<ReturnType<typeof readDays>> & { pending: PendingEnergy[]; firstSeen: FirstSeen[] },
        Awaited<ReturnType<typeof readDays>> & { pending: PendingEnergy[] },
        Awaited<ReturnType<FleetCache["readLinks"]>>,
      ]
    >(this.sql, [
      async (tx) => ({
        ...(await readDays(tx, "vehicle_daily", dayList, this.vehicleDays, this.vehicles, horizon)),
        pending: await pendingEnergyQuery(tx, "vehicle", window),
        firstSeen: await firstSeenQuery(tx, window),
      }),
      async (tx) => ({
        ...(await readDays(tx, "meter_daily", dayList, this.meterDays, this.meters, horizon)),
        pending: await pendingEnergyQuery(tx, "meter", window),
      }),
      (tx) => this.readLinks(tx, horizon, window),
    ]);
    // Nothing changes before every read succeeded.
    this.vehicleDays = vehicles.apply();
    this.meterDays = meters.apply();
    this.links = links.links;
    this.linkStorage = links.storage;
    this.horizon = vehicles.horizon;
    return {
      partial: links.partial,
      gaps: links.gaps,
      firstSeen: new Map(vehicles.firstSeen.map((row) => [row.vehicleId, row.firstSeenMs])),
      pendingVehicles: numbered(vehicles.pending, this.vehicles),
      pendingMeters: numbered(meters.pending, this.meters),
    };
  }

  private async readLinks(tx: Queryable, horizon: string | undefined, window: Window) {
    const [meta] = await tx<{ storage: number; changed: boolean }[]>`
      select pg_relation_filenode('vehicle_meter_mapping')::int8::float8 as storage,
             ${horizon === undefined ? tx`true` : tx`exists (select 1 from vehicle_meter_mapping where changed_xid >= ${horizon}::xid8)`} as changed
    `;
    if (!meta) throw new Error("the fleet cache read no links");
    const rows =
      meta.changed || meta.storage !== this.linkStorage
        ? await tx<{ vehicleId: string; meterId: string; linkedMs: number; unlinkedMs: number }[]>`
            select vehicle_id as "vehicleId", meter_id as "meterId",
                   (extract(epoch from linked_at) * 1000)::float8 as "linkedMs",
                   (extract(epoch from unlinked_at) * 1000)::float8 as "unlinkedMs"
            from vehicle_meter_mapping
          `
        : undefined;
    const links: Links = rows
      ? {
          vehicle: Int32Array.from(rows, (l) => this.vehicles.numberOf(l.vehicleId)),
          meter: Int32Array.from(rows, (l) => this.meters.numberOf(l.meterId)),
          linkedMs: Float64Array.from(rows, (l) => l.linkedMs),
          unlinkedMs: Float64Array.from(rows, (l) => l.unlinkedMs),
        }
      : this.links;
    // Links starting or ending inside the window take their energy from hourly and raw
    // rows, and so do the gaps they leave; a window every link covers whole or not at all
    // has neither.
    const from = window.from.getTime();
    const to = window.to.getTime();
    const hasPartial = links.linkedMs.some((linked, i) => {
      const unlinked = links.unlinkedMs[i] as number;
      return linked < to && unlinked > from && (linked > from || unlinked < to);
    });
    return {
      storage: meta.storage,
      links,
      partial: hasPartial ? await partialLinkEnergyQuery(tx, window) : [],
      gaps: hasPartial ? await linkGapEnergyQuery(tx, window) : [],
    };
  }

  private compute(
    dayList: number[],
    firstLo: number,
    lastHi: number,
    window: Window,
    { partial, gaps, firstSeen, pendingVehicles, pendingMeters }: BeyondDays,
  ): FleetEnergy {
    const bounds = (i: number) => [i === 0 ? firstLo : 0, i === dayList.length - 1 ? lastHi : 24] as const;
    const vehicleCount = this.vehicles.ids.length;
    const dcWh = new Float64Array(vehicleCount);
    const readings = new Float64Array(vehicleCount);
    const tempMax = new Float64Array(vehicleCount).fill(Number.NaN); // NaN: no reading
    dayList.forEach((dayMs, i) => {
      const [lo, hi] = bounds(i);
      const day = this.vehicleDays.get(dayMs);
      if (!day) return;
      day.addShare("dcWh", lo, hi, dcWh);
      day.addShare("readings", lo, hi, readings);
      const count = Math.min(day.capacity, vehicleCount);
      for (let hour = lo; hour < hi; hour++) {
        const max = day.column("tempMax", hour);
        for (let v = 0; v < count; v++) {
          const value = max[v] as number;
          if (value > (tempMax[v] as number) || Number.isNaN(tempMax[v] as number)) tempMax[v] = value;
        }
      }
    });
    for (const { device, wh, readings: count, tempMax: max } of pendingVehicles) {
      dcWh[device] = (dcWh[device] as number) + wh;
      readings[device] = (readings[device] as number) + count;
      if (max !== null && (max > (tempMax[device] as number) || Number.isNaN(tempMax[device] as number)))
        tempMax[device] = max;
    }
    const meterCount = this.meters.ids.length;
    const meterWh = new Float64Array(meterCount);
    const meterReadings = new Float64Array(meterCount);
    dayList.forEach((dayMs, i) => {
      const [lo, hi] = bounds(i);
      const day = this.meterDays.get(dayMs);
      if (!day) return;
      day.addShare("acWh", lo, hi, meterWh);
      day.addShare("readings", lo, hi, meterReadings);
    });
    for (const { device, wh, readings: count } of pendingMeters) {
      meterWh[device] = (meterWh[device] as number) + wh;
      meterReadings[device] = (meterReadings[device] as number) + count;
    }

    // The links inside the window, clipped to it.
    const from = window.from.getTime();
    const to = window.to.getTime();
    const { vehicle, meter, linkedMs, unlinkedMs } = this.links;
    const inWindow: number[] = [];
    const linksOfMeter = new Int32Array(meterCount);
    for (let l = 0; l < vehicle.length; l++) {
      if ((linkedMs[l] as number) < to && (unlinkedMs[l] as number) > from) {
        inWindow.push(l);
        linksOfMeter[meter[l] as number] = (linksOfMeter[meter[l] as number] as number) + 1;
      }
    }
    const f = (l: number) => Math.max(linkedMs[l] as number, from);
    const t = (l: number) => Math.min(unlinkedMs[l] as number, to);
    // A meter with several links in the window is checked for links of other vehicles at the same time.
    const sameMeter = new Map<number, number[]>();
    for (const l of inWindow) {
      const m = meter[l] as number;
      if ((linksOfMeter[m] as number) <= 1) continue;
      const same = sameMeter.get(m);
      if (same) same.push(l);
      else sameMeter.set(m, [l]);
    }
    // Partial links may name vehicles with nothing else in the window: numbered before sizing.
    for (const row of partial) this.vehicles.numberOf(row.vehicleId);
    const acWh = new Float64Array(this.vehicles.ids.length);
    const acMeters = new Map<number, string[]>();
    const meters = new Map<number, number[]>();
    const shared = new Map<number, number[]>();
    const add = (map: Map<number, number[]>, v: number, m: number) => {
      const list = map.get(v);
      if (!list) map.set(v, [m]);
      else if (!list.includes(m)) list.push(m);
    };
    for (const l of inWindow) {
      const v = vehicle[l] as number;
      const m = meter[l] as number;
      add(meters, v, m);
      const others = sameMeter.get(m);
      if (others?.some((o) => vehicle[o] !== v && f(o) < t(l) && t(o) > f(l))) add(shared, v, m);
      if (f(l) === from && t(l) === to && (meterReadings[m] as number) > 0) {
        acWh[v] = (acWh[v] as number) + (meterWh[m] as number);
        addId(acMeters, v, this.meters.ids[m] as string);
      }
    }
    for (const row of partial) {
      const v = this.vehicles.numberOf(row.vehicleId);
      acWh[v] = (acWh[v] as number) + row.acWh;
      addId(acMeters, v, row.meterId);
    }

    const vehicles: FleetVehicleEnergy[] = [];
    for (let v = 0; v < this.vehicles.ids.length; v++) {
      const hasReadings = v < vehicleCount && (readings[v] as number) > 0;
      if (!hasReadings && !acMeters.has(v)) continue;
      const max = v < vehicleCount ? (tempMax[v] as number) : Number.NaN;
      const vehicleId = this.vehicles.ids[v] as string;
      vehicles.push({
        vehicleId,
        ac: (acWh[v] as number) / 1000,
        dc: (v < vehicleCount ? (dcWh[v] as number) : 0) / 1000,
        readings: v < vehicleCount ? (readings[v] as number) : 0,
        tempMax: Number.isNaN(max) ? null : max / 100,
        meters: meters.get(v)?.length ?? 0,
        sharedMeters: shared.get(v)?.length ?? 0,
        acMeters: acMeters.get(v) ?? [],
        firstSeenMs: firstSeen.get(vehicleId) ?? null,
      });
    }
    // Meters with no link in the window read wholly unlinked; the others, their gaps.
    const unlinkedMeters: UnlinkedMeterEnergy[] = gaps.map((row) => ({ meterId: row.meterId, ac: row.acWh / 1000 }));
    for (let m = 0; m < meterCount; m++) {
      if (linksOfMeter[m] === 0 && (meterReadings[m] as number) > 0)
        unlinkedMeters.push({ meterId: this.meters.ids[m] as string, ac: (meterWh[m] as number) / 1000 });
    }
    return { vehicles, unlinkedMeters };
  }
}

/** What one request adds to the kept days (see refresh). */
interface BeyondDays {
  partial: { vehicleId: string; meterId: string; acWh: number }[];
  gaps: { meterId: string; acWh: number }[];
  firstSeen: Map<string, number>;
  pendingVehicles: NumberedEnergy[];
  pendingMeters: NumberedEnergy[];
}

interface NumberedEnergy {
  device: number;
  wh: number;
  readings: number;
  tempMax: number | null;
}

interface FirstSeen {
  vehicleId: string;
  firstSeenMs: number;
}

const addId = (map: Map<number, string[]>, key: number, id: string) => {
  const list = map.get(key);
  if (!list) map.set(key, [id]);
  else if (!list.includes(id)) list.push(id);
};

const numbered = (rows: PendingEnergy[], devices: Devices): NumberedEnergy[] =>
  rows.map((row) => ({
    device: devices.numberOf(row.deviceId),
    wh: row.wh,
    readings: row.readings,
    tempMax: row.tempMax,
  }));
