/// <reference lib="dom" />
// The vehicle view: one vehicle's live state (flagged stale past 15 minutes), its series
// over the chosen window by hour or day, and the meters linked to it.

import { DAY_MS } from "../time.ts";
import { ApiError, api } from "./api.ts";
import { renderSeries } from "./charts.ts";
import { $, card, element } from "./dom.ts";
import { format } from "./format.ts";
import { chosenRange, rangeQuery, type TimeRange } from "./range.ts";
import type { Mapping, Series, VehicleState } from "./types.ts";

const STALE_AFTER_MS = 15 * 60 * 1000; // as /v1/admin/stats counts a device stale

// The bucket the reader picked; until then (and again on another vehicle) it follows the window.
let chosenBucket: "hour" | "day" | undefined;

export function chooseBucket(bucket: "hour" | "day" | undefined) {
  chosenBucket = bucket;
}

function bucketFor(range: TimeRange): "hour" | "day" {
  if (chosenBucket) return chosenBucket;
  return range.to.getTime() - range.from.getTime() > 7 * DAY_MS ? "day" : "hour";
}

function renderState(state: VehicleState | undefined) {
  if (!state) {
    $("vehicle-state").replaceChildren(element("p", { class: "empty" }, "This vehicle has not reported yet."));
    return;
  }
  const isStale = Date.now() - new Date(state.lastUpdated).getTime() > STALE_AFTER_MS;
  const seen = element(
    "div",
    { class: "value" },
    format.instant(state.lastUpdated),
    " ",
    element(
      "span",
      { class: `badge ${isStale ? "stale" : "live"}`, "data-staleness": isStale ? "stale" : "live" },
      isStale ? "stale" : "live",
    ),
  );
  $("vehicle-state").replaceChildren(
    card("State of charge", `${state.soc.toFixed(1)} %`, "soc", state.soc),
    card("Battery temperature", format.temp(state.batteryTemp), "batteryTemp", state.batteryTemp),
    card("Last DC reading, kWh", format.kwh(state.kwhDeliveredDc)),
    element("div", { class: "card" }, element("div", { class: "label" }, "Last seen"), seen),
  );
}

function renderLinks(mappings: Mapping[]) {
  if (mappings.length === 0) {
    $("links").replaceChildren(element("p", { class: "empty" }, "No meter has been linked to this vehicle."));
    return;
  }
  // An open end: linked for all the meter's history, or not unlinked yet.
  const since = (value: string | null, open: string) => (value === null ? open : format.instant(value));
  $("links").replaceChildren(
    element(
      "table",
      {},
      element(
        "thead",
        {},
        element("tr", {}, ...["Meter", "Linked", "Unlinked", "Active"].map((text) => element("th", {}, text))),
      ),
      element(
        "tbody",
        {},
        ...mappings.map((link) =>
          element(
            "tr",
            {},
            element("td", { class: "id" }, link.meterId),
            element("td", {}, since(link.linkedAt, "its whole history")),
            element("td", {}, since(link.unlinkedAt, "—")),
            element("td", {}, link.isActive ? "yes" : "no"),
          ),
        ),
      ),
    ),
  );
}

export async function loadVehicle(vehicleId: string) {
  $("vehicle-id").textContent = vehicleId;
  const range = chosenRange();
  const bucket = bucketFor(range);
  for (const radio of document.querySelectorAll<HTMLInputElement>("input[name=bucket]")) {
    radio.checked = radio.value === bucket;
  }
  // A vehicle that has never reported has no state (404) but may still have links.
  const notReported = (error: unknown) => {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  };
  const [state, series, links] = await Promise.all([
    api<VehicleState>(`/v1/vehicles/${vehicleId}/state`).catch(notReported),
    api<Series>(`/v1/analytics/vehicles/${vehicleId}/series?bucket=${bucket}&${rangeQuery(range)}`),
    api<{ mappings: Mapping[] }>(`/v1/mappings?vehicleId=${vehicleId}`),
  ]);
  renderState(state);
  renderSeries(series);
  renderLinks(links.mappings);
}
