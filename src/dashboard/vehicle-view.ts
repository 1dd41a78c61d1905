/// <reference lib="dom" />
// The vehicle view: first the vehicle's figures over the window (AC, DC, efficiency,
// coverage, temperatures) and its quality flags in plain words, then its live state
// (flagged stale past 15 minutes), its series by hour or day, and the meters linked to it.
// Another vehicle's figures never stay on screen: the view is emptied before a different
// vehicle loads, and an unknown or malformed id leaves only a message saying so.
import { DAY_MS } from "../time.ts";
import { ApiError, api } from "./api.ts";
import { clearCharts, renderSeries } from "./charts.ts";
import { $, card, deviceLink, element, timeText } from "./dom.ts";
import { explainFlag } from "./flags.ts";
import { format, zoneName } from "./format.ts";
import { type Place, UUID } from "./place.ts";
import { rangeQuery, type TimeRange } from "./range.ts";
import type { Mapping, Series, VehiclePerformance, VehicleState } from "./types.ts";

const STALE_AFTER_MS = 15 * 60 * 1000; // as /v1/admin/stats counts a device stale

// The vehicle whose figures are on screen, so a different one starts from an empty view.
let shownVehicle: string | undefined;

function bucketFor(place: Place, range: TimeRange): "hour" | "day" {
  if (place.bucket) return place.bucket;
  return range.to.getTime() - range.from.getTime() > 7 * DAY_MS ? "day" : "hour";
}

/** Empties every part of the view: nothing of the vehicle shown before survives. */
export function clearVehicle() {
  shownVehicle = undefined;
  $("vehicle-body").hidden = true;
  $("vehicle-missing").hidden = true;
  for (const id of ["vehicle-name", "vehicle-id", "vehicle-window", "chart-note"]) $(id).textContent = "";
  for (const id of ["vehicle-figures", "vehicle-flags", "vehicle-state", "links"]) $(id).replaceChildren();
  clearCharts();
}

function showMissing(text: string) {
  clearVehicle();
  const box = $("vehicle-missing");
  box.replaceChildren(element("p", {}, text), element("p", {}, "Search by id or name above, or go back to the fleet."));
  box.hidden = false;
}

function renderFigures(figures: VehiclePerformance) {
  const coverageNote = `${format.count(figures.dataPoints)} of ${format.count(figures.expectedPoints)} readings`;
  $("vehicle-figures").replaceChildren(
    card("AC drawn, kWh", format.kwh(figures.totalAcConsumption), "ac", figures.totalAcConsumption),
    card("DC delivered, kWh", format.kwh(figures.totalDcDelivery), "dc", figures.totalDcDelivery),
    card("Efficiency (DC/AC)", format.ratio(figures.efficiencyRatio), "efficiency", figures.efficiencyRatio),
    card(`Coverage (${coverageNote})`, format.percent(figures.coverage), "coverage", figures.coverage),
    card("Average battery temp", format.temp(figures.avgBatteryTemp), "avgBatteryTemp", figures.avgBatteryTemp),
    card("Max battery temp", format.temp(figures.maxBatteryTemp), "maxBatteryTemp", figures.maxBatteryTemp),
  );
  const flags = figures.quality.map((flag) =>
    element(
      "li",
      { "data-flag": flag.code },
      element("span", { class: `flag ${flag.code}` }, flag.code),
      " ",
      element("span", { class: "explanation" }, explainFlag(flag.code)),
      " ",
      element("span", { class: "detail" }, `(${flag.message})`),
    ),
  );
  $("vehicle-flags").replaceChildren(
    ...(flags.length > 0
      ? flags
      : [element("li", { class: "empty" }, "No quality flags: nothing doubtful in this window.")]),
  );
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
    timeText(state.lastUpdated),
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
    element("div", { class: "card" }, element("div", { class: "label" }, "Last seen"), seen),
  );
}

export function linksTable(mappings: Mapping[], other: "meter" | "vehicle") {
  if (mappings.length === 0) return element("p", { class: "empty" }, `No ${other} has been linked.`);
  // An open end: linked for all the meter's history, or not unlinked yet.
  const since = (value: string | null, open: string) => (value === null ? open : timeText(value));
  const head = [other === "meter" ? "Meter" : "Vehicle", "Linked", "Unlinked", "Active"];
  return element(
    "table",
    { class: "links" },
    element("thead", {}, element("tr", {}, ...head.map((text) => element("th", {}, text)))),
    element(
      "tbody",
      {},
      ...mappings.map((link) =>
        element(
          "tr",
          {},
          element(
            "td",
            { "data-label": head[0] as string },
            other === "meter"
              ? deviceLink("meter", link.meterId, link.meterName)
              : deviceLink("vehicle", link.vehicleId, link.vehicleName),
          ),
          element("td", { "data-label": "Linked" }, since(link.linkedAt, "its whole history")),
          element("td", { "data-label": "Unlinked" }, since(link.unlinkedAt, "—")),
          element("td", { "data-label": "Active" }, link.isActive ? "yes" : "no"),
        ),
      ),
    ),
  );
}

/**
 * Loads and shows the vehicle; `isCurrent` says whether the reader is still on this view
 * when the answers arrive (else they are dropped). Answers what is on screen.
 */
export async function loadVehicle(place: Place, range: TimeRange, isCurrent: () => boolean): Promise<string> {
  const id = (place.id ?? "").toLowerCase();
  if (!UUID.test(id)) {
    showMissing(`“${place.id ?? ""}” is not a vehicle id: ids look like 660e8400-e29b-41d4-a716-446655440000.`);
    return `missing:${place.id ?? ""}`;
  }
  if (shownVehicle !== id) clearVehicle();
  const bucket = bucketFor(place, range);
  for (const radio of document.querySelectorAll<HTMLInputElement>("input[name=bucket]")) {
    radio.checked = radio.value === bucket;
  }
  const query = rangeQuery(range);
  // A vehicle that has never reported has no state (404) but may still have links.
  const orNone = (error: unknown) => {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  };
  const [figures, state, series, links] = await Promise.all([
    api<VehiclePerformance>(`/v1/analytics/performance/${id}?${query}`).catch(orNone),
    api<VehicleState>(`/v1/vehicles/${id}/state`).catch(orNone),
    api<Series>(`/v1/analytics/vehicles/${id}/series?bucket=${bucket}&${query}`).catch(orNone),
    api<{ mappings: Mapping[] }>(`/v1/mappings?vehicleId=${id}`),
  ]);
  if (!isCurrent()) return "stale";
  if (!figures || !series) {
    showMissing(`No vehicle ${id} is known here: it has never reported and was never linked to a meter.`);
    return `missing:${id}`;
  }
  shownVehicle = id;
  $("vehicle-missing").hidden = true;
  $("vehicle-body").hidden = false;
  $("vehicle-name").textContent = figures.name ?? "(no name)";
  $("vehicle-id").textContent = id;
  $("vehicle-window").replaceChildren(
    "Window ",
    timeText(figures.from),
    " – ",
    timeText(figures.to),
    ` (times in ${zoneName()})`,
  );
  const csv = $<HTMLAnchorElement>("series-csv");
  csv.href = `/v1/analytics/vehicles/${id}/series?format=csv&bucket=${bucket}&${query}`;
  renderFigures(figures);
  renderState(state);
  renderSeries(series);
  $("links").replaceChildren(linksTable(links.mappings, "meter"));
  return `vehicle:${id}`;
}
