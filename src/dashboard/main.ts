/// <reference lib="dom" />
// The dashboard page's script: the fleet over a window and one vehicle one click away
// (#vehicle/<id>), read from the same /v1 API as any client, refreshed every 30 s without
// reloading. This module owns the routing, the refresh, the form and key controls and
// start-up; the views, charts and requests live beside it. Bundled with uPlot by
// bundle.ts; served by routes.ts.
import { describeFailure, forgetKey, readKey, saveKey } from "./api.ts";
import { resizeCharts } from "./charts.ts";
import { $, showMessage } from "./dom.ts";
import { loadFleet, resetAttentionPage } from "./fleet-view.ts";
import { chooseBucket, loadVehicle } from "./vehicle-view.ts";

const REFRESH_MS = 30_000;

const currentVehicle = () => /^#vehicle\/([0-9a-fA-F-]{36})$/.exec(location.hash)?.[1];

// One refresh at a time: the 30 s timer, a click and a hash change may all ask at once.
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
    else await loadFleet(() => void refresh());
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
    resetAttentionPage();
    void refresh();
  });
  $<HTMLSelectElement>("window").addEventListener("change", (event) => {
    const isCustom = (event.target as HTMLSelectElement).value === "custom";
    $("custom-window").hidden = !isCustom;
    // A custom window waits for its dates and the Show button.
    if (!isCustom) {
      resetAttentionPage();
      void refresh();
    }
  });
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $<HTMLInputElement>("key");
    if (input.value.trim()) saveKey(input.value.trim());
    input.value = "";
    showKeyState();
    void refresh();
  });
  $("forget-key").addEventListener("click", () => {
    forgetKey();
    showKeyState();
    void refresh();
  });
  for (const radio of document.querySelectorAll<HTMLInputElement>("input[name=bucket]")) {
    radio.addEventListener("change", () => {
      chooseBucket(radio.value as "hour" | "day");
      void refresh();
    });
  }
  window.addEventListener("hashchange", () => {
    chooseBucket(undefined);
    void refresh();
  });
  window.addEventListener("resize", resizeCharts);
  showKeyState();
  void refresh();
  setInterval(() => void refresh(), REFRESH_MS);
}

start();
