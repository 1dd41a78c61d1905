/// <reference lib="dom" />
// The uPlot wiring: one vehicle's series as two charts (energy with efficiency, battery
// state of charge with temperature), redrawn whole on each refresh and resized with the
// window. Each bucket is drawn over its whole span (a bar from its start to its end, lines
// held flat across it), energy axes start at 0, a bucket still in progress is shaded and
// labelled, and ticks and the legend use the page's one date format and zone. Daily
// buckets are the API's UTC days, so a daily chart is dated in UTC and says so.
import uPlot from "uplot";
import { $ } from "./dom.ts";
import { format, isShowingUtc, zoneName } from "./format.ts";
import type { Series } from "./types.ts";

const HEIGHT = 240;
const BUCKET_S = { hour: 3600, day: 86_400 } as const;

// The charts on screen, so the next render and a resize can reach them.
const charts: uPlot[] = [];

function chartWidth(container: HTMLElement) {
  return Math.max(280, container.clientWidth || 640);
}

export function resizeCharts() {
  for (const chart of charts)
    chart.setSize({ width: chartWidth(chart.root.parentElement as HTMLElement), height: HEIGHT });
}

export function clearCharts() {
  for (const chart of charts.splice(0)) chart.destroy();
  for (const id of ["energy-chart", "battery-chart"]) $(id).replaceChildren();
  $("chart-note").textContent = "";
}

/** Shades the bucket in progress (from `partialFrom` on) and labels it. */
function partialBucket(partialFrom: number | undefined): uPlot.Plugin {
  return {
    hooks: {
      drawClear: (u) => {
        if (partialFrom === undefined) return;
        const left = u.valToPos(partialFrom, "x", true);
        const right = u.bbox.left + u.bbox.width;
        const { ctx } = u;
        ctx.save();
        ctx.fillStyle = "rgba(91,101,117,0.14)";
        ctx.fillRect(left, u.bbox.top, right - left, u.bbox.height);
        ctx.fillStyle = "#5b6575";
        ctx.font = `${Math.round(11 * devicePixelRatio)}px system-ui, sans-serif`;
        ctx.textAlign = "right";
        ctx.fillText("in progress", right - 4 * devicePixelRatio, u.bbox.top + 14 * devicePixelRatio);
        ctx.restore();
      },
    },
  };
}

export function renderSeries(series: Series) {
  clearCharts();
  const bucket = BUCKET_S[series.bucket];
  // The API's days are UTC days: dated as such, whatever zone the page shows.
  const isUtc = series.bucket === "day" || isShowingUtc();
  const times = series.points.map((point) => new Date(point.start).getTime() / 1000);
  const from = new Date(series.from).getTime() / 1000;
  const to = new Date(series.to).getTime() / 1000;
  const last = times.at(-1);
  const partialFrom = last !== undefined && (last + bucket) * 1000 > Date.now() ? last : undefined;

  const tick = (seconds: number) =>
    series.bucket === "day" || seconds % 86_400 === 0 || to - from > 3 * 86_400
      ? format.tickDay(seconds * 1000, isUtc)
      : format.tickTime(seconds * 1000);
  const xAxis: uPlot.Axis = {
    values: (u, splits) => {
      const labels = splits.map((split) => tick(split));
      // The labels drawn, for whoever checks the chart (the browser tests do).
      u.root.parentElement?.setAttribute("data-ticks", labels.join("|"));
      return labels;
    },
    space: 70,
  };
  const base = {
    tzDate: (seconds: number) => (isUtc ? uPlot.tzDate(new Date(seconds * 1000), "UTC") : new Date(seconds * 1000)),
    plugins: [partialBucket(partialFrom)],
    legend: { live: true },
  };
  const xScale = { time: true, range: (): uPlot.Range.MinMax => [from, to] };
  const xSeries: uPlot.Series = {
    label: series.bucket === "day" ? "Day (UTC)" : `Hour from (${zoneName()})`,
    value: (_u, seconds) =>
      seconds == null
        ? "—"
        : series.bucket === "day"
          ? format.day(seconds * 1000, true)
          : format.instant(seconds * 1000),
  };
  const bars = uPlot.paths.bars?.({ align: 1, size: [0.92, Number.POSITIVE_INFINITY] });
  const steps = uPlot.paths.stepped?.({ align: 1 });
  const noPoints = { show: false };
  const energy = $("energy-chart");
  const battery = $("battery-chart");
  const orNull = (value: number | null) => value ?? null;
  // A step line holds a bucket's value to its end; the last bucket's end needs its own point.
  const held = (values: (number | null)[]) => [...values, values.at(-1) ?? null];
  const heldTimes = [...times, to];

  charts.push(
    new uPlot(
      {
        ...base,
        width: chartWidth(energy),
        height: HEIGHT,
        // The kWh axis's lower end, once set: for whoever checks the chart.
        hooks: {
          setScale: [
            (u, key) => {
              if (key === "y") energy.dataset.kwhMin = String(u.scales.y?.min);
            },
          ],
        },
        scales: {
          x: xScale,
          y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
          // Efficiency above 1 is impossible and shown as it is, not clipped.
          ratio: { range: (_u, _min, max) => [0, Math.max(1.2, (max ?? 0) * 1.1)] },
        },
        axes: [xAxis, { label: "kWh" }, { scale: "ratio", side: 1, label: "DC/AC", grid: { show: false } }],
        series: [
          xSeries,
          { label: "AC kWh", stroke: "#1f6feb", fill: "rgba(31,111,235,0.25)", paths: bars },
          { label: "DC kWh", stroke: "#2e7d32", width: 2, paths: steps, points: noPoints },
          {
            label: "Efficiency",
            scale: "ratio",
            stroke: "#b35900",
            width: 2,
            dash: [4, 4],
            paths: steps,
            points: noPoints,
          },
        ],
      },
      [
        heldTimes,
        [...series.points.map((point) => point.totalAcConsumption), null],
        held(series.points.map((point) => point.totalDcDelivery)),
        held(series.points.map((point) => orNull(point.efficiencyRatio))),
      ],
      energy,
    ),
  );
  charts.push(
    new uPlot(
      {
        ...base,
        width: chartWidth(battery),
        height: HEIGHT,
        scales: {
          x: xScale,
          soc: { range: [0, 100] },
          "°C": { range: (_u, min, max) => [Math.min(0, min ?? 0), Math.max(70, (max ?? 0) + 5)] },
        },
        axes: [xAxis, { scale: "soc", label: "SoC %" }, { scale: "°C", side: 1, label: "°C", grid: { show: false } }],
        series: [
          xSeries,
          { label: "SoC min", scale: "soc", stroke: "#7aa7f0", paths: steps, points: noPoints },
          { label: "SoC max", scale: "soc", stroke: "#1f6feb", paths: steps, points: noPoints },
          { label: "Max battery temp", scale: "°C", stroke: "#c62828", width: 2, paths: steps, points: noPoints },
        ],
        // The band between the SoC minimum and maximum of each bucket.
        bands: [{ series: [2, 1], fill: "rgba(31,111,235,0.12)" }],
      },
      [
        heldTimes,
        held(series.points.map((point) => orNull(point.socMin))),
        held(series.points.map((point) => orNull(point.socMax))),
        held(series.points.map((point) => orNull(point.maxBatteryTemp))),
      ],
      battery,
    ),
  );

  const when = series.bucket === "day" ? "Daily buckets are UTC days." : `Hours in ${zoneName()}.`;
  const partial =
    partialFrom === undefined
      ? ""
      : ` The last ${series.bucket} (from ${series.bucket === "day" ? format.day(partialFrom * 1000, true) : format.instant(partialFrom * 1000)}) is still in progress: its figures are partial.`;
  $("chart-note").textContent = `${when}${partial}`;
  // The partial bucket's start: for whoever checks the chart.
  energy.dataset.partial = battery.dataset.partial =
    partialFrom === undefined ? "" : new Date(partialFrom * 1000).toISOString();
}
