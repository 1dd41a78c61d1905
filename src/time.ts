// Spans of time in milliseconds. Plain numbers and no imports, so the dashboard's browser
// bundle takes them too.
export const HOUR_MS = 60 * 60 * 1000;
export const DAY_MS = 24 * HOUR_MS;
