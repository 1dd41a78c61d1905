// Number and date formatting: the page shows the API's figures, rounded only where the
// API rounds, with "—" where the API has no figure (null) rather than a made-up zero.

export const format = {
  kwh: (value: number) => value.toFixed(3),
  ratio: (value: number | null) => (value === null ? "—" : value.toFixed(4)),
  percent: (value: number | null) => (value === null ? "—" : `${(value * 100).toFixed(1)} %`),
  temp: (value: number | null) => (value === null ? "—" : `${value.toFixed(1)} °C`),
  count: (value: number) => value.toLocaleString("en-US"),
  instant: (iso: string) => new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" }),
};
