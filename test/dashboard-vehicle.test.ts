// The vehicle page in Chromium: the vehicle's figures for the window first (the performance answer, each flag
// explained), then charts whose energy axis starts at 0, whose days are days and whose bucket in progress is
// marked, dated in one format in a named zone; an unknown or malformed id leaves nothing of the previous vehicle.
// Screenshots of the vehicle and not-found views at 1280 and 390 px go to test/artifacts/.
import { describe, expect, it } from "bun:test";
import type { Page } from "playwright-core";
import {
  BROWSER_TEST_MS,
  hasChromium,
  minutesAgo,
  openPage,
  PHONE,
  screenshot,
  shown,
  useDashboard,
} from "./support/dashboard.ts";
import { newId } from "./support/http.ts";

const hot = { vehicleId: newId(), meterId: newId() };
const quiet = { vehicleId: newId(), meterId: newId() };

const rig = useDashboard(async ({ send }) => {
  for (const pair of [hot, quiet]) await send("/v1/mappings", pair, 201);
  const meters = [];
  const vehicles = [];
  for (const minutes of [200, 140, 80, 20]) {
    meters.push({ meterId: hot.meterId, kwhConsumedAc: 5.5, voltage: 231, timestamp: minutesAgo(minutes) });
    meters.push({ meterId: quiet.meterId, kwhConsumedAc: 2, voltage: 229, timestamp: minutesAgo(minutes) });
    const dc = { soc: 48, kwhDeliveredDc: 4.675, batteryTemp: 58 + minutes / 40 };
    vehicles.push({ vehicleId: hot.vehicleId, ...dc, timestamp: minutesAgo(minutes) });
    vehicles.push({
      vehicleId: quiet.vehicleId,
      soc: 77,
      kwhDeliveredDc: 1.8,
      batteryTemp: 22,
      timestamp: minutesAgo(minutes),
    });
  }
  await send("/v1/telemetry/batch", { meters, vehicles }, 201);
  await send(`/v1/vehicles/${hot.vehicleId}/profile`, { name: "Van 042" }, 201, "PUT");
  await send(`/v1/meters/${hot.meterId}/profile`, { name: "Depot bay 7" }, 201, "PUT");
});

const figure = (page: Page, name: string) =>
  page.getAttribute(`#vehicle-figures [data-figure="${name}"]`, "data-value");
const windowOf = async (page: Page, view: string) => {
  const times = page.locator(`#${view} time`);
  return { from: await times.nth(0).getAttribute("datetime"), to: await times.nth(1).getAttribute("datetime") };
};

describe.skipIf(!hasChromium)("vehicle page in Chromium", () => {
  it(
    "shows the vehicle's figures for the window first, each flag explained, then its charts",
    async () => {
      const { page, errors } = await openPage(rig, `/#vehicle/${hot.vehicleId}`);
      await shown(page, `vehicle:${hot.vehicleId}`);
      const { from, to } = await windowOf(page, "vehicle-window");
      const performance = await rig.api(`/v1/analytics/performance/${hot.vehicleId}?from=${from}&to=${to}`);
      expect(performance.dataPoints).toBe(4);
      expect(Number(await figure(page, "ac"))).toBe(performance.totalAcConsumption);
      expect(Number(await figure(page, "dc"))).toBe(performance.totalDcDelivery);
      expect(Number(await figure(page, "efficiency"))).toBe(performance.efficiencyRatio);
      expect(Number(await figure(page, "coverage"))).toBe(performance.coverage);
      expect(Number(await figure(page, "avgBatteryTemp"))).toBe(performance.avgBatteryTemp);
      expect(Number(await figure(page, "maxBatteryTemp"))).toBe(performance.maxBatteryTemp);
      expect(await page.textContent("#vehicle-figures")).toContain("4 of ");
      expect(await page.textContent("#vehicle-name")).toBe("Van 042");
      expect(await page.textContent("#links")).toContain("Depot bay 7");

      // Every flag of the answer, with its plain explanation and the API's numbers.
      const codes = performance.quality.map((flag: { code: string }) => flag.code);
      expect(codes).toContain("battery_overheat");
      expect(
        await page
          .locator("#vehicle-flags [data-flag]")
          .evaluateAll((items) => items.map((li) => li.getAttribute("data-flag"))),
      ).toEqual(codes);
      const overheat = await page.textContent('#vehicle-flags [data-flag="battery_overheat"]');
      expect(overheat).toContain("hotter than the safe limit");
      expect(overheat).toContain(
        performance.quality.find((flag: { code: string }) => flag.code === "battery_overheat").message,
      );

      // Figures above the charts, and the charts drawn.
      const figuresTop = (await page.locator("#vehicle-figures").boundingBox())?.y ?? Number.NaN;
      const chartTop = (await page.locator("#energy-chart").boundingBox())?.y ?? Number.NaN;
      expect(figuresTop).toBeLessThan(chartTop);
      expect(await page.locator("#energy-chart canvas, #battery-chart canvas").count()).toBe(2);

      // kWh from 0; the hour still running shaded and said; dates in one format (no US 11/3 form).
      expect(await page.getAttribute("#energy-chart", "data-kwh-min")).toBe("0");
      expect(await page.getAttribute("#energy-chart", "data-partial")).toMatch(/^\d{4}-\d\d-\d\dT\d\d:00:00\.000Z$/);
      expect(await page.textContent("#chart-note")).toContain("still in progress");
      expect(await page.getAttribute("#energy-chart", "data-ticks")).not.toMatch(/\//);
      expect(await page.textContent("#vehicle-window")).toMatch(/^Window \d{1,2} \w{3} \d{4}, \d\d:\d\d – /);
      await screenshot(page, "vehicle-desk");
      expect(errors).toEqual([]);
      await page.close();
    },
    BROWSER_TEST_MS,
  );

  it(
    "names the browser's time zone, switches to UTC, and draws daily buckets as UTC days",
    async () => {
      const page = await rig.browser.newPage({
        viewport: { width: 1280, height: 900 },
        timezoneId: "America/New_York",
      });
      await page.goto(new URL(`/#vehicle/${hot.vehicleId}?window=7d`, rig.url).toString());
      await shown(page, `vehicle:${hot.vehicleId}`);
      expect(await page.textContent("#vehicle-window")).toContain("(times in America/New_York)");
      // Hovering a date shows it in UTC.
      const from = await page.locator("#vehicle-window time").first().getAttribute("datetime");
      expect(await page.locator("#vehicle-window time").first().getAttribute("title")).toMatch(/ UTC$/);
      expect(await page.locator("#vehicle-window time").first().getAttribute("title")).toContain(
        new Date(from as string).toLocaleString("en-GB", { timeZone: "UTC", hour: "2-digit", minute: "2-digit" }),
      );

      await page.check('input[name=bucket][value="day"]');
      await page.waitForFunction(() => location.hash.includes("bucket=day"));
      await page.waitForFunction(() => document.querySelector("#chart-note")?.textContent?.includes("UTC days"));
      const ticks = (await page.getAttribute("#energy-chart", "data-ticks")) ?? "";
      expect(ticks.split("|").length).toBeGreaterThan(1);
      for (const tick of ticks.split("|")) expect(tick).toMatch(/^\d{1,2} \w{3}$/); // days, no hours

      await page.selectOption("#zone", "utc");
      await page.waitForFunction(() => location.hash.includes("tz=utc"));
      await page.waitForFunction(() =>
        document.querySelector("#vehicle-window")?.textContent?.includes("(times in UTC)"),
      );
      expect(await page.textContent("#status")).toContain("(UTC)");
      await page.close();
    },
    BROWSER_TEST_MS,
  );

  it(
    "opens an unknown id after a known vehicle with a clear message and nothing of the previous one",
    async () => {
      const { page, errors } = await openPage(rig, `/#vehicle/${hot.vehicleId}`);
      await shown(page, `vehicle:${hot.vehicleId}`);
      const unknown = newId();
      await page.evaluate((id) => {
        location.hash = `#vehicle/${id}`;
      }, unknown);
      await shown(page, `missing:${unknown}`);
      const view = page.locator("#vehicle-view");
      expect(await page.locator("#vehicle-missing").textContent()).toContain(`No vehicle ${unknown} is known here`);
      expect(await page.locator("#vehicle-body").isHidden()).toBe(true);
      expect(await page.locator("#vehicle-view canvas").count()).toBe(0);
      expect(await page.locator("#vehicle-figures > *, #vehicle-state > *, #links > *").count()).toBe(0);
      const visible = (await view.textContent()) ?? "";
      for (const stale of [hot.vehicleId, "Van 042", "Depot bay 7", "°C"]) expect(visible).not.toContain(stale);
      await screenshot(page, "not-found-desk");

      // Not an id at all (a fleet number typed into the URL): said so, not the fleet.
      await page.evaluate(() => {
        location.hash = "#vehicle/VAN-042";
      });
      await shown(page, "missing:VAN-042");
      expect(await page.locator("#vehicle-missing").textContent()).toContain("“VAN-042” is not a vehicle id");
      expect(await page.locator("#fleet-view").isHidden()).toBe(true);

      // And back to a real vehicle: its own figures, not a blank page.
      await page.evaluate((id) => {
        location.hash = `#vehicle/${id}`;
      }, quiet.vehicleId);
      await shown(page, `vehicle:${quiet.vehicleId}`);
      expect(await page.locator("#vehicle-missing").isHidden()).toBe(true);
      expect(Number(await figure(page, "dc"))).toBe(7.2);
      expect(errors).toEqual([]);
      await page.close();
    },
    BROWSER_TEST_MS,
  );

  it(
    "never draws a vehicle whose answers arrive after the reader moved on to another id",
    async () => {
      const { page, errors } = await openPage(rig, "/");
      await shown(page, "fleet");
      // Hold the first vehicle's figures until the reader has gone elsewhere.
      let release = () => {};
      const held = new Promise<void>((resolve) => {
        void page.route(`**/v1/analytics/performance/${hot.vehicleId}?*`, async (route) => {
          resolve();
          await new Promise<void>((go) => {
            release = go;
          });
          await route.continue();
        });
      });
      await page.evaluate(() => {
        const view = document.querySelector("#vehicle-view") as HTMLElement;
        const seen = window as unknown as { sawStale: boolean };
        seen.sawStale = false;
        new MutationObserver(() => {
          if (view.textContent?.includes("Van 042")) seen.sawStale = true;
        }).observe(view, { subtree: true, childList: true, characterData: true });
      });
      await page.evaluate((id) => {
        location.hash = `#vehicle/${id}`;
      }, hot.vehicleId);
      await held;
      const unknown = newId();
      await page.evaluate((id) => {
        location.hash = `#vehicle/${id}`;
      }, unknown);
      release();
      await shown(page, `missing:${unknown}`);
      expect(await page.evaluate(() => (window as unknown as { sawStale: boolean }).sawStale)).toBe(false);
      expect(await page.locator("#vehicle-body").isHidden()).toBe(true);
      expect(errors).toEqual([]);
      await page.close();
    },
    BROWSER_TEST_MS,
  );

  it(
    "fits a 390 px phone: figures, charts and links without sideways scrolling",
    async () => {
      const { page, errors } = await openPage(rig, `/#vehicle/${hot.vehicleId}`, PHONE);
      await shown(page, `vehicle:${hot.vehicleId}`);
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      expect(overflow).toBe(0);
      for (const name of ["ac", "dc", "efficiency", "coverage", "maxBatteryTemp"]) {
        const box = await page.locator(`#vehicle-figures [data-figure="${name}"]`).boundingBox();
        expect(box && box.x >= 0 && box.x + box.width <= PHONE.width).toBe(true);
      }
      const chart = await page.locator("#energy-chart canvas").first().boundingBox();
      expect(chart && chart.x + chart.width <= PHONE.width).toBe(true);
      await screenshot(page, "vehicle-phone");

      await page.evaluate(() => {
        location.hash = "#vehicle/00000000-0000-4000-8000-000000000000";
      });
      await shown(page, "missing:00000000-0000-4000-8000-000000000000");
      await screenshot(page, "not-found-phone");
      expect(errors).toEqual([]);
      await page.close();
    },
    BROWSER_TEST_MS,
  );
});
