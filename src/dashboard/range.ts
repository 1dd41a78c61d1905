/// <reference lib="dom" />
// The time window both views show, as chosen in the page's form: the last day, 7 or 30
// days up to now, or a custom from–to; and how it goes into a query string.
import { DAY_MS } from "../time.ts";
import { $ } from "./dom.ts";

export interface TimeRange {
  from: Date;
  to: Date;
}

export function chosenRange(): TimeRange {
  const choice = $<HTMLSelectElement>("window").value;
  const now = Date.now();
  if (choice === "custom") {
    const from = $<HTMLInputElement>("from").value;
    const to = $<HTMLInputElement>("to").value;
    // A custom window with an end missing falls back to the last day.
    if (from && to) return { from: new Date(from), to: new Date(to) };
  }
  const span = choice === "7d" ? 7 * DAY_MS : choice === "30d" ? 30 * DAY_MS : DAY_MS;
  return { from: new Date(now - span), to: new Date(now) };
}

export const rangeQuery = (range: TimeRange) =>
  `from=${encodeURIComponent(range.from.toISOString())}&to=${encodeURIComponent(range.to.toISOString())}`;
