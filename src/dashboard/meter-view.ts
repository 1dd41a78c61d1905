/// <reference lib="dom" />
// The meter view, where a search for a meter leads: its name and id, its latest reading
// and the vehicles it has been linked to, each one click from its vehicle view. An
// unknown or malformed id is a message with nothing of another meter left on screen.
import { ApiError, api } from "./api.ts";
import { $, card, element, timeText } from "./dom.ts";
import { type Place, UUID } from "./place.ts";
import type { Mapping, MeterState } from "./types.ts";
import { linksTable } from "./vehicle-view.ts";

function clearMeter() {
  $("meter-name").textContent = "";
  $("meter-id").textContent = "";
  $("meter-state").replaceChildren();
  $("meter-links").replaceChildren();
}

export async function loadMeter(place: Place, isCurrent: () => boolean): Promise<string> {
  const id = (place.id ?? "").toLowerCase();
  if ($("meter-id").textContent !== id) clearMeter();
  if (!UUID.test(id)) {
    $("meter-state").replaceChildren(element("p", { class: "missing" }, `“${place.id ?? ""}” is not a meter id.`));
    return `missing:${place.id ?? ""}`;
  }
  const orNone = (error: unknown) => {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  };
  const [state, links] = await Promise.all([
    api<MeterState>(`/v1/meters/${id}/state`).catch(orNone),
    api<{ mappings: Mapping[] }>(`/v1/mappings?meterId=${id}`),
  ]);
  if (!isCurrent()) return "stale";
  const name = state?.name ?? links.mappings[0]?.meterName ?? null;
  $("meter-name").textContent = name ?? "(no name)";
  $("meter-id").textContent = id;
  $("meter-state").replaceChildren(
    ...(state
      ? [
          card("Voltage", `${state.voltage.toFixed(1)} V`, "voltage", state.voltage),
          element(
            "div",
            { class: "card" },
            element("div", { class: "label" }, "Last seen"),
            timeText(state.lastUpdated),
          ),
        ]
      : [element("p", { class: "empty" }, "This meter has not reported yet.")]),
  );
  $("meter-links").replaceChildren(linksTable(links.mappings, "vehicle"));
  return `meter:${id}`;
}
