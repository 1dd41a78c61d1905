/// <reference lib="dom" />
// The dashboard page's script: the fleet over a window, a vehicle or a meter one click or
// one search away, read from the same /v1 API as any client, refreshed every 30 s without
// reloading. Where the reader is (view, window, bucket, zone) lives in the URL (place.ts),
// so a reload or a shared link shows the same. This module owns the routing, the refresh,
// the form and key controls and start-up; the views, charts and requests live beside it.
// Bundled with uPlot by bundle.ts; served by routes.ts.
import { describeFailure, download, forgetKey, readKey, saveKey } from "./api.ts";
import { resizeCharts } from "./charts.ts";
import { $, showMessage } from "./dom.ts";
import { loadFleet, resetAttentionPage } from "./fleet-view.ts";
import { useUtc, zoneName } from "./format.ts";
import { loadMeter } from "./meter-view.ts";
import { goTo, type Place, readPlace, type WindowChoice } from "./place.ts";
import { rangeOf, readInput, showInput, WindowError } from "./range.ts";
import { hideResults, startSearch } from "./search-box.ts";
import { clearVehicle, loadVehicle } from "./vehicle-view.ts";

const REFRESH_MS = 30_000;

/** The form shows the place: a reload or a shared link fills it in as it was. */
function showPlace(place: Place) {
  useUtc(place.isUtc);
  $<HTMLSelectElement>("window").value = place.window;
  $("custom-window").hidden = place.window !== "custom";
  showInput("from", place.from, place.isUtc);
  showInput("to", place.to, place.isUtc);
  $<HTMLSelectElement>("zone").value = place.isUtc ? "utc" : "local";
  $("zone-local").textContent = `Local (${Intl.DateTimeFormat().resolvedOptions().timeZone || "browser"})`;
  $("fleet-view").hidden = place.view !== "fleet";
  $("vehicle-view").hidden = place.view !== "vehicle";
  $("meter-view").hidden = place.view !== "meter";
}

// One refresh at a time: the 30 s timer, a click and a hash change may all ask at once.
// A request made meanwhile runs once the current one is done, and `generation` lets a
// refresh know it was overtaken, so its late answers are not drawn.
let isRefreshing = false;
let isAskedAgain = false;
let generation = 0;
async function refresh() {
  generation++;
  if (isRefreshing) {
    isAskedAgain = true;
    return;
  }
  isRefreshing = true;
  const mine = generation;
  const isCurrent = () => mine === generation;
  const place = readPlace();
  showPlace(place);
  if (place.view !== "vehicle") clearVehicle();
  $("status").textContent = "Loading…";
  try {
    const range = rangeOf(place);
    const shown =
      place.view === "vehicle"
        ? await loadVehicle(place, range, isCurrent)
        : place.view === "meter"
          ? await loadMeter(place, isCurrent)
          : await loadFleet(range, () => void refresh(), isCurrent);
    if (shown !== "stale") {
      showMessage(undefined);
      $("status").textContent = `Updated ${new Date().toLocaleTimeString("en-GB")} (${zoneName()})`;
      // What is on screen, for whoever waits on it (the browser tests do).
      document.body.dataset.view = shown;
      // When the first figures were on screen: what bench/dashboard-paint.ts reports.
      if (performance.getEntriesByName("dashboard-shown").length === 0) performance.mark("dashboard-shown");
    }
  } catch (error) {
    showMessage(error instanceof WindowError ? error.message : describeFailure(error));
    $("status").textContent = "Not updated";
    document.body.dataset.view = error instanceof WindowError ? "window-error" : "error";
  } finally {
    isRefreshing = false;
    if (isAskedAgain) {
      isAskedAgain = false;
      void refresh();
    }
  }
}

function showKeyState() {
  const hasKey = readKey() !== "";
  $("forget-key").hidden = !hasKey;
  $<HTMLInputElement>("key").placeholder = hasKey ? "API key saved for this tab" : "API key (read scope)";
}

/** The place with the window as the form now says. */
function placeFromForm(): Place {
  const place = readPlace();
  const window = $<HTMLSelectElement>("window").value as WindowChoice;
  if (window !== "custom") return { ...place, window, from: undefined, to: undefined };
  return { ...place, window, from: readInput("from", place.isUtc), to: readInput("to", place.isUtc) };
}

function start() {
  $("window-form").addEventListener("submit", (event) => {
    event.preventDefault();
    resetAttentionPage();
    goTo(placeFromForm(), "replace", () => void refresh());
  });
  $<HTMLSelectElement>("window").addEventListener("change", (event) => {
    const isCustom = (event.target as HTMLSelectElement).value === "custom";
    $("custom-window").hidden = !isCustom;
    // A custom window waits for its dates and the Show button.
    if (!isCustom) {
      resetAttentionPage();
      goTo(placeFromForm(), "replace", () => void refresh());
    }
  });
  $<HTMLSelectElement>("zone").addEventListener("change", (event) => {
    const isUtc = (event.target as HTMLSelectElement).value === "utc";
    goTo({ ...readPlace(), isUtc }, "replace", () => void refresh());
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
      goTo({ ...readPlace(), bucket: radio.value as "hour" | "day" }, "replace", () => void refresh());
    });
  }
  // The CSV links fetch with the key (a plain link could not send it) and save the answer.
  for (const id of ["fleet-csv", "series-csv"]) {
    $<HTMLAnchorElement>(id).addEventListener("click", (event) => {
      event.preventDefault();
      download($<HTMLAnchorElement>(id).href).catch((error) => showMessage(describeFailure(error)));
    });
  }
  window.addEventListener("hashchange", () => {
    hideResults();
    void refresh();
  });
  window.addEventListener("resize", resizeCharts);
  startSearch();
  showKeyState();
  void refresh();
  setInterval(() => void refresh(), REFRESH_MS);
}

start();
