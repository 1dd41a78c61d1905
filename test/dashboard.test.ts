// The dashboard in a real headless Chromium shows the API's figures, opens a vehicle and logs no errors.
// The app listens on a real port over a test database and readings go in through the API; the page must list
// the vehicle whose DC exceeds its AC as needing attention, open that vehicle in one click with its charts
// drawn, refresh itself and handle a key. A screenshot is kept at test/artifacts/dashboard.png. Without
// /usr/bin/chromium these tests are skipped (apt-get install chromium).
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { createApp } from "../src/app.ts";
import { bundleDashboard } from "../src/dashboard/bundle.ts";
import type { DashboardAssets } from "../src/dashboard/routes.ts";
import { KeyStore } from "../src/keys/store.ts";
import { CHROMIUM, CHROMIUM_ARGS, hasChromium } from "./support/chromium.ts";
import { createTestApp, type TestApp } from "./support/database.ts";
import { type JsonBody, newId } from "./support/http.ts";

if (!hasChromium) console.log(`dashboard browser tests skipped: ${CHROMIUM} is missing (apt-get install chromium)`);

const ARTIFACTS = join(import.meta.dir, "artifacts");
const MASTER = "master-key-for-dashboard-tests-01";
const BROWSER_TEST_MS = 60_000;

let t: TestApp;
let assets: DashboardAssets;
let browser: Browser;
let server: ReturnType<typeof Bun.serve>;
let keyedServer: ReturnType<typeof Bun.serve>;
const normal = { vehicleId: newId(), meterId: newId() };
const overdrawn = { vehicleId: newId(), meterId: newId() };
const unmetered = { vehicleId: newId() };

async function send(path: string, body: unknown, key?: string): Promise<{ status: number; body: JsonBody }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (key) headers.authorization = `Bearer ${key}`;
  const response = await fetch(new URL(path, server.url), { method: "POST", headers, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
}

async function api(path: string): Promise<JsonBody> {
  const response = await fetch(new URL(path, server.url));
  expect(response.status).toBe(200);
  return response.json();
}

/** Readings over the last hours, in real time: the page's windows end now. */
async function seed() {
  const now = Date.now();
  const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();
  for (const pair of [normal, overdrawn]) expect((await send("/v1/mappings", pair)).status).toBe(201);
  const meters = [];
  const vehicles = [];
  for (const minutesAgo of [150, 90, 30]) {
    meters.push({ meterId: normal.meterId, kwhConsumedAc: 4, voltage: 230, timestamp: at(minutesAgo) });
    meters.push({ meterId: overdrawn.meterId, kwhConsumedAc: 2, voltage: 229.5, timestamp: at(minutesAgo) });
    vehicles.push({ ...pick(normal), soc: 40, kwhDeliveredDc: 3.4, batteryTemp: 28.5, timestamp: at(minutesAgo) });
    vehicles.push({ ...pick(overdrawn), soc: 55, kwhDeliveredDc: 2.5, batteryTemp: 31, timestamp: at(minutesAgo) });
    vehicles.push({ ...unmetered, soc: 70, kwhDeliveredDc: 1, batteryTemp: 24, timestamp: at(minutesAgo) });
  }
  expect((await send("/v1/telemetry/batch", { meters, vehicles })).status).toBe(201);
}
const pick = (pair: { vehicleId: string }) => ({ vehicleId: pair.vehicleId });

async function openPage(url: string | URL, init?: (page: Page) => Promise<void>) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  await init?.(page);
  await page.goto(String(url));
  return { page, errors };
}

const loaded = (page: Page, view: string) => page.waitForSelector(`body[data-view="${view}"]`, { timeout: 15_000 });

beforeAll(async () => {
  if (!hasChromium) return;
  assets = await bundleDashboard();
  t = await createTestApp({ now: () => new Date(), thresholds: { minCoverage: 0 }, dashboard: assets });
  server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (request) => t.app.fetch(request) });
  const keyedApp = createApp({
    sql: t.database.sql,
    db: t.database.db,
    writer: t.writer,
    keys: new KeyStore(t.database.db, t.database.sql, MASTER),
    dashboard: assets,
  });
  keyedServer = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (request) => keyedApp.fetch(request) });
  const { chromium } = await import("playwright-core");
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  await seed();
  await mkdir(ARTIFACTS, { recursive: true });
}, 60_000);

afterAll(async () => {
  if (!hasChromium) return;
  await browser?.close();
  await server?.stop(true);
  await keyedServer?.stop(true);
  expect(t.unexpected).toEqual([]);
  await t.close();
});

describe.skipIf(!hasChromium)("dashboard in Chromium", () => {
  it(
    "shows the API's fleet figures, flags the DC>AC vehicle, and opens it in one click with its charts",
    async () => {
      const { page, errors } = await openPage(server.url);
      await loaded(page, "fleet");

      // The page's figures are the API's, for the window the page asked for.
      const from = await page.getAttribute("#fleet-view", "data-from");
      const to = await page.getAttribute("#fleet-view", "data-to");
      const fleet = await api(`/v1/analytics/fleet?from=${from}&to=${to}&limit=25&offset=0`);
      const figure = (name: string) => page.locator(`[data-figure="${name}"]`);
      expect(await figure("vehicles").getAttribute("data-value")).toBe(String(fleet.totals.vehicles));
      expect(fleet.totals.vehicles).toBe(3);
      for (const name of ["totalAcConsumption", "totalDcDelivery"]) {
        expect(Number(await figure(name).getAttribute("data-value"))).toBe(fleet.totals[name]);
        expect(await figure(name).textContent()).toBe(fleet.totals[name].toFixed(3));
      }
      expect(await figure("efficiencyRatio").textContent()).toBe(fleet.totals.efficiencyRatio.toFixed(4));
      expect(await figure("dataPoints").getAttribute("data-value")).toBe(String(fleet.totals.dataPoints));

      // DC above AC: listed as needing attention, with its flag; the sound vehicle is not.
      const row = page.locator(`#attention [data-vehicle-row="${overdrawn.vehicleId}"]`);
      await expect(row.locator(".flag.efficiency_above_one").textContent()).resolves.toBe("efficiency_above_one");
      expect(await page.locator(`#attention [data-vehicle-row="${normal.vehicleId}"]`).count()).toBe(0);
      expect(await page.locator(`#attention [data-vehicle-row="${unmetered.vehicleId}"] .flag`).textContent()).toBe(
        "dc_without_meter",
      );
      expect(await page.locator("#attention-count").textContent()).toBe(`(${fleet.needsAttention.total})`);
      expect(await page.locator("#histogram .bin").count()).toBe(fleet.efficiencyDistribution.length);
      await page.screenshot({ path: join(ARTIFACTS, "dashboard.png"), fullPage: true });

      // One click opens the vehicle: live state, its meter link, and charts drawn on canvas.
      await row.locator("a").click();
      await loaded(page, `vehicle:${overdrawn.vehicleId}`);
      const state = await api(`/v1/vehicles/${overdrawn.vehicleId}/state`);
      expect(await figure("soc").getAttribute("data-value")).toBe(String(state.soc));
      expect(await figure("batteryTemp").getAttribute("data-value")).toBe(String(state.batteryTemp));
      expect(await page.locator("[data-staleness]").textContent()).toBe("stale"); // last reading 30 minutes ago
      expect(await page.locator("#links").textContent()).toContain(overdrawn.meterId);
      const inked = await page.evaluate(() =>
        [...document.querySelectorAll<HTMLCanvasElement>("#energy-chart canvas, #battery-chart canvas")].map(
          (canvas) => {
            const pixels = canvas.getContext("2d")?.getImageData(0, 0, canvas.width, canvas.height).data ?? [];
            let painted = 0;
            for (let i = 3; i < pixels.length; i += 4) if ((pixels[i] as number) > 0) painted++;
            return painted;
          },
        ),
      );
      expect(inked).toHaveLength(2);
      for (const painted of inked) expect(painted).toBeGreaterThan(1000);
      await page.screenshot({ path: join(ARTIFACTS, "dashboard-vehicle.png"), fullPage: true });

      // Back to the fleet with the browser's back button.
      await page.goBack();
      await loaded(page, "fleet");
      expect(errors).toEqual([]);
      await page.close();
    },
    BROWSER_TEST_MS,
  );

  it(
    "refreshes itself every 30 s without reloading",
    async () => {
      const { page, errors } = await openPage(server.url, (page) => page.clock.install({ time: new Date() }));
      await loaded(page, "fleet");
      const before = Number(await page.getAttribute('[data-figure="dataPoints"]', "data-value"));
      await page.evaluate(() => {
        (window as unknown as { marker: string }).marker = "same document";
      });
      const reading = { ...unmetered, soc: 71, kwhDeliveredDc: 1, batteryTemp: 24 };
      expect((await send("/v1/telemetry/vehicle", { ...reading, timestamp: new Date().toISOString() })).status).toBe(
        201,
      );
      await page.clock.fastForward(31_000);
      await page.waitForFunction(
        (expected) => document.querySelector('[data-figure="dataPoints"]')?.getAttribute("data-value") === expected,
        String(before + 1),
        { timeout: 15_000 },
      );
      expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe("same document");
      expect(errors).toEqual([]);
      await page.close();
    },
    BROWSER_TEST_MS,
  );

  it(
    "asks for a key on a keyed service, says when a key lacks the read scope, and keeps the key out of the URL",
    async () => {
      const { page } = await openPage(keyedServer.url);
      const message = page.locator("#message");
      await expect(message.textContent()).resolves.toContain("needs an API key with the read scope");

      const create = async (scopes: string[]) => {
        const response = await fetch(new URL("/v1/keys", keyedServer.url), {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${MASTER}` },
          body: JSON.stringify({ name: `dashboard ${scopes.join("+")}`, scopes }),
        });
        return ((await response.json()) as { key: string }).key;
      };
      const ingestKey = await create(["ingest"]);
      await page.fill("#key", ingestKey);
      await page.click("#key-form button[type=submit]");
      await page.waitForFunction(() =>
        document.querySelector("#message")?.textContent?.includes("lacks the read scope"),
      );

      const readKey = await create(["read"]);
      await page.fill("#key", readKey);
      await page.click("#key-form button[type=submit]");
      await loaded(page, "fleet");
      expect(await message.isHidden()).toBe(true);
      expect(await page.locator('[data-figure="vehicles"]').getAttribute("data-value")).toBe("3");
      expect(page.url()).not.toContain(readKey);
      expect(await page.evaluate(() => Object.values(sessionStorage))).toEqual([readKey]);
      expect(await page.inputValue("#key")).toBe("");
      await page.close();
    },
    BROWSER_TEST_MS,
  );
});
