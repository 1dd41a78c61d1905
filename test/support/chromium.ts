// Debian's Chromium, as the browser tests and bench/dashboard-paint.ts launch it through
// playwright-core (no browser download works here: the system's binary is used).
import { existsSync } from "node:fs";

export const CHROMIUM = "/usr/bin/chromium";
export const hasChromium = existsSync(CHROMIUM);
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
