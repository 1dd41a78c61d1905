/// <reference lib="dom" />
// The time window both views show, from the URL: the last day, 7 or 30 days up to now, or
// a custom from–to; how the form's inputs read and show it; and how it goes into a query
// string. A custom window missing an end, or ending before it starts, is an error the
// page states: it never falls back to another window silently.
import { DAY_MS } from "../time.ts";
import { $ } from "./dom.ts";
import type { Place } from "./place.ts";

export interface TimeRange {
  from: Date;
  to: Date;
}

/** A window the page cannot show, in words for the reader. */
export class WindowError extends Error {}

const SPANS = { "24h": DAY_MS, "7d": 7 * DAY_MS, "30d": 30 * DAY_MS } as const;

export function rangeOf(place: Place): TimeRange {
  if (place.window === "custom") {
    if (!place.from || !place.to) {
      const missing = !place.from && !place.to ? "From and To" : !place.from ? "From" : "To";
      throw new WindowError(`Custom window: fill in ${missing} (both ends are needed), then press Show.`);
    }
    const from = new Date(place.from);
    const to = new Date(place.to);
    if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) {
      throw new WindowError("Custom window: From and To must be dates and times.");
    }
    if (from >= to) throw new WindowError("Custom window: From must be before To.");
    return { from, to };
  }
  const now = Date.now();
  return { from: new Date(now - SPANS[place.window]), to: new Date(now) };
}

/** A datetime-local input's value as an instant, read in the zone the page shows. */
export function readInput(id: "from" | "to", isUtc: boolean): string | undefined {
  const value = $<HTMLInputElement>(id).value;
  if (!value) return undefined;
  const date = new Date(isUtc ? `${value}Z` : value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** Shows an instant in a datetime-local input, in the zone the page shows. */
export function showInput(id: "from" | "to", iso: string | undefined, isUtc: boolean) {
  const input = $<HTMLInputElement>(id);
  const date = iso ? new Date(iso) : undefined;
  if (!date || Number.isNaN(date.getTime())) {
    input.value = "";
    return;
  }
  const local = new Date(date.getTime() - (isUtc ? 0 : date.getTimezoneOffset() * 60_000));
  input.value = local.toISOString().slice(0, 16);
}

export const rangeQuery = (range: TimeRange) =>
  `from=${encodeURIComponent(range.from.toISOString())}&to=${encodeURIComponent(range.to.toISOString())}`;
