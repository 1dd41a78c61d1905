/// <reference lib="dom" />
// The fleet view: the window shown, the fleet's totals (and the energy with no other side
// known, where the service reports it), the efficiency histogram, the vehicles needing
// attention (a page at a time) and the least and most efficient vehicles, each by name
// and id, linking to its vehicle view, and the whole fleet as a CSV file.
import { api } from "./api.ts";
import { $, card, deviceLink, element, timeText } from "./dom.ts";
import { explainFlag } from "./flags.ts";
import { format, zoneName } from "./format.ts";
import { rangeQuery, type TimeRange } from "./range.ts";
import type { Flag, FleetVehicle, FleetView } from "./types.ts";

const PAGE_SIZE = 25;

// Which page of the attention list is shown; kept across refreshes, back to the first
// when the window changes.
let attentionOffset = 0;

export function resetAttentionPage() {
  attentionOffset = 0;
}

function flags(quality: Flag[]) {
  return element(
    "td",
    { class: "flags", "data-label": "Quality flags" },
    ...quality.map((flag) =>
      element("span", { class: `flag ${flag.code}`, title: `${explainFlag(flag.code)} (${flag.message})` }, flag.code),
    ),
  );
}

function vehicleTable(vehicles: FleetVehicle[], withFlags: boolean) {
  if (vehicles.length === 0) return element("p", { class: "empty" }, "None in this window.");
  const head = ["Vehicle", "Efficiency", "AC kWh", "DC kWh", "Coverage", "Max temp"];
  if (withFlags) head.splice(1, 0, "Quality flags"); // next to the id: what to look at first
  return element(
    "table",
    { class: "vehicles" },
    element("thead", {}, element("tr", {}, ...head.map((text) => element("th", {}, text)))),
    element(
      "tbody",
      {},
      ...vehicles.map((vehicle) => {
        const row = element(
          "tr",
          { "data-vehicle-row": vehicle.vehicleId },
          element("td", { class: "vehicle" }, deviceLink("vehicle", vehicle.vehicleId, vehicle.name)),
          element("td", { "data-label": "Efficiency" }, format.ratio(vehicle.efficiencyRatio)),
          element("td", { "data-label": "AC kWh" }, format.kwh(vehicle.totalAcConsumption)),
          element("td", { "data-label": "DC kWh" }, format.kwh(vehicle.totalDcDelivery)),
          element("td", { "data-label": "Coverage" }, format.percent(vehicle.coverage)),
          element("td", { "data-label": "Max temp" }, format.temp(vehicle.maxBatteryTemp)),
        );
        if (withFlags) row.firstElementChild?.after(flags(vehicle.quality));
        return row;
      }),
    ),
  );
}

function histogram(buckets: FleetView["efficiencyDistribution"]) {
  const most = Math.max(1, ...buckets.map((bucket) => bucket.vehicles));
  const label = (bucket: (typeof buckets)[number]) =>
    bucket.min === null ? `< ${bucket.max}` : bucket.max === null ? `> ${bucket.min}` : `${bucket.min}–${bucket.max}`;
  return buckets.map((bucket) => {
    const bar = element("div", { class: "bar" });
    bar.style.height = `${(bucket.vehicles / most) * 100}%`;
    // The open-ended top bucket is above 1: more DC out than AC in, which cannot happen.
    const impossible = bucket.max === null ? " impossible" : "";
    return element(
      "div",
      { class: `bin${impossible}`, title: `${label(bucket)}: ${bucket.vehicles} vehicles` },
      element("span", { class: "n" }, String(bucket.vehicles)),
      bar,
      element("span", { class: "edge" }, label(bucket)),
    );
  });
}

function renderPager(attention: FleetView["needsAttention"], refresh: () => void) {
  const pager = $("attention-pager");
  pager.replaceChildren();
  if (attention.total <= attention.limit) return;
  const toPage = (offset: number) => {
    attentionOffset = offset;
    refresh();
  };
  const previous = element("button", { type: "button" }, "← Previous");
  const next = element("button", { type: "button" }, "Next →");
  previous.disabled = attention.offset === 0;
  next.disabled = attention.offset + attention.limit >= attention.total;
  previous.onclick = () => toPage(Math.max(0, attention.offset - attention.limit));
  next.onclick = () => toPage(attention.offset + attention.limit);
  const last = Math.min(attention.total, attention.offset + attention.vehicles.length);
  pager.append(previous, `${attention.offset + 1}–${last} of ${format.count(attention.total)}`, next);
}

function renderFleet(view: FleetView, refresh: () => void) {
  const section = $("fleet-view");
  section.dataset.from = view.from;
  section.dataset.to = view.to;
  $("fleet-window").replaceChildren(
    "Window ",
    timeText(view.from),
    " – ",
    timeText(view.to),
    ...(view.asOf && view.asOf < view.to ? [", figures up to ", timeText(view.asOf)] : []),
    ` (times in ${zoneName()})`,
  );
  const { totals } = view;
  // Vehicles first seen inside the window expect fewer readings: the answer's own count says how many.
  const coverage = totals.expectedPoints ? totals.dataPoints / totals.expectedPoints : null;
  $("totals").replaceChildren(
    card("Vehicles", format.count(totals.vehicles), "vehicles", totals.vehicles),
    card("AC drawn, kWh", format.kwh(totals.totalAcConsumption), "totalAcConsumption", totals.totalAcConsumption),
    card("DC delivered, kWh", format.kwh(totals.totalDcDelivery), "totalDcDelivery", totals.totalDcDelivery),
    card("Efficiency (DC/AC)", format.ratio(totals.efficiencyRatio), "efficiencyRatio", totals.efficiencyRatio),
    card("Readings", format.count(totals.dataPoints), "dataPoints", totals.dataPoints),
    card("Coverage", format.percent(coverage)),
  );
  // Energy whose other side is unknown, reported by newer services beside the headline.
  const unpaired = totals.unpaired;
  $("unpaired").hidden = !unpaired;
  if (unpaired) {
    $("unpaired").replaceChildren(
      card(
        `DC with no meter, kWh (${format.count(unpaired.vehicles)} vehicles)`,
        format.kwh(unpaired.dcKwh),
        "unpairedDc",
        unpaired.dcKwh,
      ),
      card(
        `AC with no vehicle, kWh (${format.count(unpaired.meters)} meters)`,
        format.kwh(unpaired.acKwh),
        "unpairedAc",
        unpaired.acKwh,
      ),
    );
  }
  $("histogram").replaceChildren(...histogram(view.efficiencyDistribution));

  const attention = view.needsAttention;
  $("attention-count").textContent = `(${format.count(attention.total)})`;
  $("attention").replaceChildren(vehicleTable(attention.vehicles, true));
  renderPager(attention, refresh);
  $("least").replaceChildren(vehicleTable(view.leastEfficient, false));
  $("most").replaceChildren(vehicleTable(view.mostEfficient, false));
}

/**
 * Fetches and shows the fleet over the window; `refresh` is how the pager reloads, and
 * `isCurrent` whether the reader is still on the fleet when the answer arrives.
 */
export async function loadFleet(range: TimeRange, refresh: () => void, isCurrent: () => boolean) {
  const query = rangeQuery(range);
  const view = await api<FleetView>(`/v1/analytics/fleet?${query}&limit=${PAGE_SIZE}&offset=${attentionOffset}`);
  if (!isCurrent()) return "stale";
  $<HTMLAnchorElement>("fleet-csv").href = `/v1/analytics/fleet?format=csv&${query}`;
  renderFleet(view, refresh);
  return "fleet";
}
