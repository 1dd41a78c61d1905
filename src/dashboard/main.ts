/// <reference lib="dom" />
// The dashboard page's script: the fleet over a window and one vehicle one click away,
// read from the same /v1 API as any client, refreshed every 30 s without reloading. A read
// key, when the service needs one, is entered once and kept in sessionStorage (gone with
// the tab), sent as a bearer header and never put in a URL. Bundled with uPlot by
// bundle.ts; served by routes.ts.
import uPlot from "uplot";

const REFRESH_MS = 30_000;
const STALE_AFTER_MS = 15 * 60 * 1000; // as /v1/admin/stats counts a device stale
const PAGE_SIZE = 25;
const KEY_ITEM = "fleet-telemetry.api-key";
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

interface Flag {
  code: string;
  message: string;
}
interface FleetVehicle {
  vehicleId: string;
  totalAcConsumption: number;
  totalDcDelivery: number;
  efficiencyRatio: number | null;
  dataPoints: number;
  coverage: number | null;
  maxBatteryTemp: number | null;
  quality: Flag[];
}
interface FleetView {
  from: string;
  to: string;
  totals: {
    vehicles: number;
    totalAcConsumption: number;
    totalDcDelivery: number;
    efficiencyRatio: number | null;
    dataPoints: number;
    expectedPointsPerVehicle: number;
  };
  efficiencyDistribution: { min: number | null; max: number | null; vehicles: number }[];
  leastEfficient: FleetVehicle[];
  mostEfficient: FleetVehicle[];
  needsAttention: { total: number; limit: number; offset: number; vehicles: FleetVehicle[] };
}
interface VehicleState {
  vehicleId: string;
  soc: number;
  kwhDeliveredDc: number;
  batteryTemp: number;
  lastUpdated: string;
}
interface SeriesPoint {
  start: string;
  totalAcConsumption: number;
  totalDcDelivery: number;
  efficiencyRatio: number | null;
  maxBatteryTemp: number | null;
  socMin: number | null;
  socMax: number | null;
  dataPoints: number;
}
interface Series {
  vehicleId: string;
  bucket: "hour" | "day";
  from: string;
  to: string;
  points: SeriesPoint[];
}
interface Mapping {
  vehicleId: string;
  meterId: string;
  linkedAt: string | null;
  unlinkedAt: string | null;
  isActive: boolean;
}

/** An answer that is not 2xx, in the API's one error shape. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

// ---- formatting: the page shows the API's figures, rounded only where the API rounds ----
const format = {
  kwh: (value: number) => value.toFixed(3),
  ratio: (value: number | null) => (value === null ? "—" : value.toFixed(4)),
  percent: (value: number | null) => (value === null ? "—" : `${(value * 100).toFixed(1)} %`),
  temp: (value: number | null) => (value === null ? "—" : `${value.toFixed(1)} °C`),
  count: (value: number) => value.toLocaleString("en-US"),
  instant: (iso: string) => new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" }),
};

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

// ---- the API key and requests ----
const readKey = () => sessionStorage.getItem(KEY_ITEM) ?? "";

async function api<T>(path: string): Promise<T> {
  const key = readKey();
  const response = await fetch(path, { headers: key ? { Authorization: `Bearer ${key}` } : {} });
  if (response.ok) return (await response.json()) as T;
  let code = "http_error";
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = (await response.json()) as { error?: { code: string; message: string } };
    if (body.error) ({ code, message } = body.error);
  } catch {
    // not the error shape (a proxy's page, say): keep the status line
  }
  throw new ApiError(response.status, code, message);
}

function describeFailure(error: unknown): string {
  if (!(error instanceof ApiError)) return `The service could not be reached (${String(error)}).`;
  if (error.status === 401) {
    return readKey()
      ? "The API key was refused: it is not valid or has been revoked. Enter another one above."
      : "This service needs an API key with the read scope. Enter it above; it is kept for this tab only.";
  }
  if (error.status === 403) return "This API key lacks the read scope. Use a key with the read (or admin) scope.";
  if (error.status === 429) return "Too many requests: the service asked to slow down. The next refresh will retry.";
  return `${error.message} (${error.code})`;
}

function showMessage(text: string | undefined) {
  const box = $("message");
  box.hidden = !text;
  box.textContent = text ?? "";
}

// ---- the window ----
interface TimeRange {
  from: Date;
  to: Date;
}

function chosenRange(): TimeRange {
  const choice = $<HTMLSelectElement>("window").value;
  const now = Date.now();
  if (choice === "custom") {
    const from = $<HTMLInputElement>("from").value;
    const to = $<HTMLInputElement>("to").value;
    if (from && to) return { from: new Date(from), to: new Date(to) };
  }
  const span = choice === "7d" ? 7 * DAY_MS : choice === "30d" ? 30 * DAY_MS : DAY_MS;
  return { from: new Date(now - span), to: new Date(now) };
}

const rangeQuery = (range: TimeRange) =>
  `from=${encodeURIComponent(range.from.toISOString())}&to=${encodeURIComponent(range.to.toISOString())}`;

// ---- fleet view ----
let attentionOffset = 0;

function card(label: string, value: string, figure?: string, raw?: number | null) {
  const attributes: Record<string, string> = { class: "value" };
  if (figure) attributes["data-figure"] = figure;
  if (raw !== undefined) attributes["data-value"] = String(raw);
  return element(
    "div",
    { class: "card" },
    element("div", { class: "label" }, label),
    element("div", attributes, value),
  );
}

function vehicleLink(vehicleId: string) {
  return element("a", { href: `#vehicle/${vehicleId}`, class: "id", "data-vehicle": vehicleId }, vehicleId);
}

function flags(quality: Flag[]) {
  return element(
    "td",
    { class: "flags" },
    ...quality.map((flag) => element("span", { class: `flag ${flag.code}`, title: flag.message }, flag.code)),
  );
}

function vehicleTable(vehicles: FleetVehicle[], withFlags: boolean) {
  if (vehicles.length === 0) return element("p", { class: "empty" }, "None in this window.");
  const head = ["Vehicle", "Efficiency", "AC kWh", "DC kWh", "Coverage", "Max temp"];
  if (withFlags) head.splice(1, 0, "Quality flags"); // next to the id: what to look at first
  return element(
    "table",
    {},
    element("thead", {}, element("tr", {}, ...head.map((text) => element("th", {}, text)))),
    element(
      "tbody",
      {},
      ...vehicles.map((vehicle) => {
        const row = element(
          "tr",
          { "data-vehicle-row": vehicle.vehicleId },
          element("td", {}, vehicleLink(vehicle.vehicleId)),
          element("td", {}, format.ratio(vehicle.efficiencyRatio)),
          element("td", {}, format.kwh(vehicle.totalAcConsumption)),
          element("td", {}, format.kwh(vehicle.totalDcDelivery)),
          element("td", {}, format.percent(vehicle.coverage)),
          element("td", {}, format.temp(vehicle.maxBatteryTemp)),
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

function renderFleet(view: FleetView) {
  const section = $("fleet-view");
  section.dataset.from = view.from;
  section.dataset.to = view.to;
  $("fleet-window").textContent = `${format.instant(view.from)} – ${format.instant(view.to)}`;
  const { totals } = view;
  const coverage =
    totals.vehicles && totals.expectedPointsPerVehicle
      ? totals.dataPoints / (totals.vehicles * totals.expectedPointsPerVehicle)
      : null;
  $("totals").replaceChildren(
    card("Vehicles", format.count(totals.vehicles), "vehicles", totals.vehicles),
    card("AC drawn, kWh", format.kwh(totals.totalAcConsumption), "totalAcConsumption", totals.totalAcConsumption),
    card("DC delivered, kWh", format.kwh(totals.totalDcDelivery), "totalDcDelivery", totals.totalDcDelivery),
    card("Efficiency (DC/AC)", format.ratio(totals.efficiencyRatio), "efficiencyRatio", totals.efficiencyRatio),
    card("Readings", format.count(totals.dataPoints), "dataPoints", totals.dataPoints),
    card("Coverage", format.percent(coverage)),
  );
  $("histogram").replaceChildren(...histogram(view.efficiencyDistribution));

  const attention = view.needsAttention;
  $("attention-count").textContent = `(${format.count(attention.total)})`;
  $("attention").replaceChildren(vehicleTable(attention.vehicles, true));
  const pager = $("attention-pager");
  pager.replaceChildren();
  if (attention.total > attention.limit) {
    const previous = element("button", { type: "button" }, "← Previous");
    const next = element("button", { type: "button" }, "Next →");
    previous.disabled = attention.offset === 0;
    next.disabled = attention.offset + attention.limit >= attention.total;
    previous.onclick = () => pageAttention(Math.max(0, attention.offset - attention.limit));
    next.onclick = () => pageAttention(attention.offset + attention.limit);
    const last = Math.min(attention.total, attention.offset + attention.vehicles.length);
    pager.append(previous, `${attention.offset + 1}–${last} of ${format.count(attention.total)}`, next);
  }
  $("least").replaceChildren(vehicleTable(view.leastEfficient, false));
  $("most").replaceChildren(vehicleTable(view.mostEfficient, false));
}

function pageAttention(offset: number) {
  attentionOffset = offset;
  void refresh();
}

async function loadFleet() {
  const range = chosenRange();
  const view = await api<FleetView>(
    `/v1/analytics/fleet?${rangeQuery(range)}&limit=${PAGE_SIZE}&offset=${attentionOffset}`,
  );
  renderFleet(view);
}

// ---- vehicle view ----
const charts: uPlot[] = [];
let chosenBucket: "hour" | "day" | undefined;

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

function chartWidth(container: HTMLElement) {
  return Math.max(320, container.clientWidth || 640);
}

function drawChart(container: HTMLElement, options: Omit<uPlot.Options, "width" | "height">, data: uPlot.AlignedData) {
  const chart = new uPlot({ ...options, width: chartWidth(container), height: 240 }, data, container);
  charts.push(chart);
}

function renderSeries(series: Series) {
  for (const chart of charts.splice(0)) chart.destroy();
  const energy = $("energy-chart");
  const battery = $("battery-chart");
  energy.replaceChildren();
  battery.replaceChildren();
  const times = series.points.map((point) => new Date(point.start).getTime() / 1000);
  const orNull = (value: number | null) => value ?? null;
  const bars = uPlot.paths.bars?.({ size: [0.6, 40] });
  drawChart(
    energy,
    {
      // Efficiency above 1 is impossible and shown as it is, not clipped.
      scales: { x: { time: true }, ratio: { range: (_chart, _min, max) => [0, Math.max(1.2, (max ?? 0) * 1.1)] } },
      axes: [{}, { label: "kWh" }, { scale: "ratio", side: 1, label: "DC/AC", grid: { show: false } }],
      series: [
        {},
        { label: "AC kWh", stroke: "#1f6feb", fill: "rgba(31,111,235,0.25)", paths: bars },
        { label: "DC kWh", stroke: "#2e7d32", width: 2 },
        { label: "Efficiency", scale: "ratio", stroke: "#b35900", width: 2, dash: [4, 4] },
      ],
    },
    [
      times,
      series.points.map((point) => point.totalAcConsumption),
      series.points.map((point) => point.totalDcDelivery),
      series.points.map((point) => orNull(point.efficiencyRatio)),
    ],
  );
  drawChart(
    battery,
    {
      scales: { x: { time: true }, soc: { range: [0, 100] } },
      axes: [{}, { scale: "soc", label: "SoC %" }, { scale: "°C", side: 1, label: "°C", grid: { show: false } }],
      series: [
        {},
        { label: "SoC min", scale: "soc", stroke: "#7aa7f0" },
        { label: "SoC max", scale: "soc", stroke: "#1f6feb" },
        { label: "Max battery temp", scale: "°C", stroke: "#c62828", width: 2 },
      ],
      bands: [{ series: [2, 1], fill: "rgba(31,111,235,0.12)" }],
    },
    [
      times,
      series.points.map((point) => orNull(point.socMin)),
      series.points.map((point) => orNull(point.socMax)),
      series.points.map((point) => orNull(point.maxBatteryTemp)),
    ],
  );
}

function renderLinks(mappings: Mapping[]) {
  if (mappings.length === 0) {
    $("links").replaceChildren(element("p", { class: "empty" }, "No meter has been linked to this vehicle."));
    return;
  }
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

async function loadVehicle(vehicleId: string) {
  $("vehicle-id").textContent = vehicleId;
  const range = chosenRange();
  const bucket = bucketFor(range);
  for (const radio of document.querySelectorAll<HTMLInputElement>("input[name=bucket]")) {
    radio.checked = radio.value === bucket;
  }
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

// ---- navigation and refresh ----
const currentVehicle = () => /^#vehicle\/([0-9a-fA-F-]{36})$/.exec(location.hash)?.[1];

let isRefreshing = false;
async function refresh() {
  if (isRefreshing) return;
  isRefreshing = true;
  const vehicleId = currentVehicle();
  $("fleet-view").hidden = vehicleId !== undefined;
  $("vehicle-view").hidden = vehicleId === undefined;
  $("status").textContent = "Loading…";
  try {
    if (vehicleId) await loadVehicle(vehicleId);
    else await loadFleet();
    showMessage(undefined);
    $("status").textContent = `Updated ${new Date().toLocaleTimeString("en-GB")}`;
    // What is on screen, for whoever waits on it (the browser tests do).
    document.body.dataset.view = vehicleId ? `vehicle:${vehicleId}` : "fleet";
    // When the first figures were on screen: what bench/dashboard-paint.ts reports.
    if (performance.getEntriesByName("dashboard-shown").length === 0) performance.mark("dashboard-shown");
  } catch (error) {
    showMessage(describeFailure(error));
    $("status").textContent = "Not updated";
  } finally {
    isRefreshing = false;
  }
}

function showKeyState() {
  const hasKey = readKey() !== "";
  $("forget-key").hidden = !hasKey;
  $<HTMLInputElement>("key").placeholder = hasKey ? "API key saved for this tab" : "API key (read scope)";
}

function start() {
  $("window-form").addEventListener("submit", (event) => {
    event.preventDefault();
    attentionOffset = 0;
    void refresh();
  });
  $<HTMLSelectElement>("window").addEventListener("change", (event) => {
    const isCustom = (event.target as HTMLSelectElement).value === "custom";
    $("custom-window").hidden = !isCustom;
    if (!isCustom) {
      attentionOffset = 0;
      void refresh();
    }
  });
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $<HTMLInputElement>("key");
    if (input.value.trim()) sessionStorage.setItem(KEY_ITEM, input.value.trim());
    input.value = "";
    showKeyState();
    void refresh();
  });
  $("forget-key").addEventListener("click", () => {
    sessionStorage.removeItem(KEY_ITEM);
    showKeyState();
    void refresh();
  });
  for (const radio of document.querySelectorAll<HTMLInputElement>("input[name=bucket]")) {
    radio.addEventListener("change", () => {
      chosenBucket = radio.value as "hour" | "day";
      void refresh();
    });
  }
  window.addEventListener("hashchange", () => {
    chosenBucket = undefined;
    void refresh();
  });
  window.addEventListener("resize", () => {
    for (const chart of charts)
      chart.setSize({ width: chartWidth(chart.root.parentElement as HTMLElement), height: 240 });
  });
  showKeyState();
  void refresh();
  setInterval(() => void refresh(), REFRESH_MS);
}

start();
