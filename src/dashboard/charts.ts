/// <reference lib="dom" />
// The uPlot wiring: one vehicle's series as two charts (energy with efficiency, battery
// state of charge with temperature), redrawn whole on each refresh and resized with the
// window.
import uPlot from "uplot";
import { $ } from "./dom.ts";
import type { Series } from "./types.ts";

const HEIGHT = 240;

// The charts on screen, so the next render and a resize can reach them.
const charts: uPlot[] = [];

function chartWidth(container: HTMLElement) {
  return Math.max(320, container.clientWidth || 640);
}

function drawChart(container: HTMLElement, options: Omit<uPlot.Options, "width" | "height">, data: uPlot.AlignedData) {
  const chart = new uPlot({ ...options, width: chartWidth(container), height: HEIGHT }, data, container);
  charts.push(chart);
}

export function resizeCharts() {
  for (const chart of charts)
    chart.setSize({ width: chartWidth(chart.root.parentElement as HTMLElement), height: HEIGHT });
}

export function renderSeries(series: Series) {
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
      // The band between the SoC minimum and maximum of each bucket.
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
