// `bun bench/dashboard-paint.ts [vehicles] [loads]`: what the dashboard weighs and how
// fast it shows a large fleet. Starts the service as `bun run start` does (bench/service.ts)
// on a fresh embedded database, uploads the last three hours of a fleet of `vehicles`
// (default 10,000; every tenth with a linked meter) as NDJSON, then loads the page
// `loads` times (default 5) in headless Chromium, each in a fresh browser context (cold
// cache), and prints the medians of first contentful paint, of the moment the fleet's
// figures are on screen (the page's "dashboard-shown" mark) and of the fleet API call.
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";
import { CHROMIUM, CHROMIUM_ARGS } from "../test/support/chromium.ts";
import { startService } from "./service.ts";

const vehicles = Number(Bun.argv[2] ?? 10_000);
const loads = Number(Bun.argv[3] ?? 5);
const log = (line: string) => console.error(`[dashboard] ${line}`);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

const service = await startService(log);
try {
  const page = await fetch(`${service.url}/`);
  const html = await page.text();
  const files = [...html.matchAll(/(?:src|href)="(\/dashboard\/[^"]+)"/g)].map((match) => match[1] as string);
  const bodies = [html, ...(await Promise.all(files.map(async (file) => (await fetch(service.url + file)).text())))];
  const raw = bodies.reduce((sum, body) => sum + Buffer.byteLength(body), 0);
  const gzipped = bodies.reduce((sum, body) => sum + gzipSync(body).byteLength, 0);
  console.log(`page weight: ${raw} bytes (HTML+JS+CSS), ${gzipped} bytes gzipped`);

  const id = (i: number, kind: number) =>
    `${kind.toString(16).padStart(8, "0")}-0000-4000-8000-${i.toString(16).padStart(12, "0")}`;
  const now = Date.now();
  const lines: string[] = [];
  for (let i = 0; i < vehicles; i++) {
    for (const minutesAgo of [170, 110, 50]) {
      const timestamp = new Date(now - minutesAgo * 60_000 - (i % 60) * 1000).toISOString();
      const dc = Math.round((1.5 + (i % 17) / 10) * 1000) / 1000;
      lines.push(
        JSON.stringify({
          type: "vehicle",
          vehicleId: id(i, 1),
          soc: 20 + (i % 70),
          kwhDeliveredDc: dc,
          batteryTemp: 25 + (i % 30),
          timestamp,
        }),
      );
      if (i % 10 === 0)
        lines.push(JSON.stringify({ type: "meter", meterId: id(i, 2), kwhConsumedAc: 2.2, voltage: 230, timestamp }));
    }
  }
  let started = performance.now();
  const upload = await fetch(`${service.url}/v1/telemetry/batch`, {
    method: "POST",
    headers: { "content-type": "application/x-ndjson" },
    body: `${lines.join("\n")}\n`,
  });
  if (upload.status !== 201) throw new Error(`upload answered ${upload.status}: ${await upload.text()}`);
  log(`${lines.length} readings uploaded in ${Math.round(performance.now() - started)} ms`);
  started = performance.now();
  for (let i = 0; i < vehicles; i += 10) {
    const link = await fetch(`${service.url}/v1/mappings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ vehicleId: id(i, 1), meterId: id(i, 2) }),
    });
    if (link.status !== 201) throw new Error(`linking answered ${link.status}`);
  }
  log(`${Math.ceil(vehicles / 10)} meters linked in ${Math.round(performance.now() - started)} ms`);

  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const paints: number[] = [];
  const shown: number[] = [];
  const api: number[] = [];
  try {
    for (let i = 0; i < loads; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const tab = await context.newPage();
      await tab.goto(`${service.url}/`);
      await tab.waitForSelector('body[data-view="fleet"]', { timeout: 60_000 });
      const timing = await tab.evaluate(() => ({
        paint: performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? Number.NaN,
        shown: performance.getEntriesByName("dashboard-shown")[0]?.startTime ?? Number.NaN,
        api:
          performance.getEntriesByType("resource").find((entry) => entry.name.includes("/v1/analytics/fleet"))
            ?.duration ?? Number.NaN,
        vehicles: document.querySelector('[data-figure="vehicles"]')?.getAttribute("data-value"),
      }));
      if (timing.vehicles !== String(vehicles)) throw new Error(`the page shows ${timing.vehicles} vehicles`);
      log(
        `load ${i + 1}: first paint ${timing.paint.toFixed(0)} ms, figures ${timing.shown.toFixed(0)} ms, fleet API ${timing.api.toFixed(0)} ms`,
      );
      paints.push(timing.paint);
      shown.push(timing.shown);
      api.push(timing.api);
      await context.close();
    }
  } finally {
    await browser.close();
  }
  console.log(
    `${vehicles} vehicles, median of ${loads} cold loads: first contentful paint ${median(paints).toFixed(0)} ms, ` +
      `fleet figures on screen ${median(shown).toFixed(0)} ms, fleet API ${median(api).toFixed(0)} ms`,
  );
} finally {
  await service.stop();
}
