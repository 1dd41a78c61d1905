// Number and date formatting: the page shows the API's figures, rounded only where the
// API rounds, with "—" where the API has no figure (null) rather than a made-up zero.
// Every date on the page and in the charts goes through one format (en-GB: 3 Dec 2026,
// 16:08) in one time zone, the browser's or UTC, as the reader chose; the zone is named.

let isUtc = false;

/** Shows every date in UTC (true) or in the browser's time zone (false). */
export function useUtc(utc: boolean) {
  isUtc = utc;
}

export const isShowingUtc = () => isUtc;

/** The time zone dates are shown in, by name: "Europe/London", or "UTC". */
export const zoneName = () => (isUtc ? "UTC" : Intl.DateTimeFormat().resolvedOptions().timeZone || "local time");

const formatters = new Map<string, Intl.DateTimeFormat>();
function dateFormat(options: Intl.DateTimeFormatOptions, utc = isUtc) {
  const key = `${JSON.stringify(options)}|${utc}`;
  let formatter = formatters.get(key);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-GB", { ...options, ...(utc ? { timeZone: "UTC" } : {}) });
    formatters.set(key, formatter);
  }
  return formatter;
}

const DAY = { day: "numeric", month: "short", year: "numeric" } as const;
const DAY_SHORT = { day: "numeric", month: "short" } as const;
const TIME = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" } as const;

export const format = {
  kwh: (value: number) => value.toLocaleString("en-GB", { minimumFractionDigits: 3, maximumFractionDigits: 3 }),
  ratio: (value: number | null) => (value === null ? "—" : value.toFixed(4)),
  percent: (value: number | null) => (value === null ? "—" : `${(value * 100).toFixed(1)} %`),
  temp: (value: number | null) => (value === null ? "—" : `${value.toFixed(1)} °C`),
  count: (value: number) => value.toLocaleString("en-GB"),
  /** 3 Dec 2026, 16:08 in the chosen zone. */
  instant: (iso: string | number) => dateFormat({ ...DAY, ...TIME }).format(new Date(iso)),
  /** The same instant in UTC, for a hover title. */
  utcInstant: (iso: string | number) => `${dateFormat({ ...DAY, ...TIME }, true).format(new Date(iso))} UTC`,
  /** 3 Dec 2026: a whole day; `utc` for days that are UTC days (the API's daily buckets). */
  day: (iso: string | number, utc = isUtc) => dateFormat(DAY, utc).format(new Date(iso)),
  /** Chart ticks, in the same style: "3 Dec" or "16:00". */
  tickDay: (ms: number, utc = isUtc) => dateFormat(DAY_SHORT, utc).format(new Date(ms)),
  tickTime: (ms: number) => dateFormat(TIME).format(new Date(ms)),
};

/** A short form of an id for tight places; the whole id stays in the title. */
export const shortId = (id: string) => `${id.slice(0, 8)}…`;
