// Where the reader is, kept in the URL's fragment so a reload or a shared link opens the
// same thing: the view (the fleet, a vehicle or a meter by id), the window (a preset or a
// custom from–to, as UTC instants so a link means the same in every time zone), the
// bucket the reader picked and whether dates are shown in UTC.
// e.g. #vehicle/660e8400-…?window=custom&from=2026-12-01T00:00:00.000Z&to=…&bucket=day&tz=utc

export type WindowChoice = "24h" | "7d" | "30d" | "custom";

export interface Place {
  view: "fleet" | "vehicle" | "meter";
  /** The id as written in the URL (validated by the view, which says when it is not an id). */
  id?: string;
  window: WindowChoice;
  from?: string;
  to?: string;
  bucket?: "hour" | "day";
  isUtc: boolean;
}

const WINDOWS: WindowChoice[] = ["24h", "7d", "30d", "custom"];

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function readPlace(hash = location.hash): Place {
  const [path = "", query = ""] = hash.replace(/^#/, "").split("?", 2);
  const params = new URLSearchParams(query);
  const window = params.get("window") as WindowChoice;
  const bucket = params.get("bucket");
  const [view, ...rest] = path.split("/");
  const id = rest.length > 0 ? decodeURIComponent(rest.join("/")) : undefined;
  return {
    view: view === "vehicle" || view === "meter" ? view : "fleet",
    id: view === "vehicle" || view === "meter" ? (id ?? "") : undefined,
    window: WINDOWS.includes(window) ? window : "24h",
    from: params.get("from") ?? undefined,
    to: params.get("to") ?? undefined,
    bucket: bucket === "hour" || bucket === "day" ? bucket : undefined,
    isUtc: params.get("tz") === "utc",
  };
}

export function placeHash(place: Place): string {
  const params = new URLSearchParams();
  if (place.window !== "24h") params.set("window", place.window);
  if (place.window === "custom") {
    if (place.from) params.set("from", place.from);
    if (place.to) params.set("to", place.to);
  }
  if (place.bucket && place.view === "vehicle") params.set("bucket", place.bucket);
  if (place.isUtc) params.set("tz", "utc");
  const path = place.view === "fleet" ? "fleet" : `${place.view}/${encodeURIComponent(place.id ?? "")}`;
  const query = params.toString();
  return `#${path}${query ? `?${query}` : ""}`;
}

/** A link to another view that keeps the window and the zone. */
export const linkTo = (view: "fleet" | "vehicle" | "meter", id?: string) =>
  placeHash({ ...readPlace(), view, id, bucket: undefined });

/**
 * Changes the URL. A new view is a new history entry (the back button returns); a new
 * window or zone replaces the entry, and is applied through `onChange`, since replacing
 * the URL fires no hashchange.
 */
export function goTo(place: Place, how: "push" | "replace", onChange: () => void) {
  const hash = placeHash(place);
  if (hash === location.hash) return onChange();
  if (how === "push")
    location.hash = hash; // hashchange follows
  else {
    history.replaceState(null, "", hash);
    onChange();
  }
}
