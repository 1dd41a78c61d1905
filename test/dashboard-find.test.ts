// Finding, naming and keeping in Chromium: the search box finds vehicles and meters by name or id start, names
// stand beside ids everywhere, the view and window survive a reload and a shared link, a custom window missing an
// end is said to be so, and the CSV links download what the API answers.
import { describe, expect, it } from "bun:test";
import { readFile } from "node:fs/promises";
import type { Page } from "playwright-core";
import { BROWSER_TEST_MS, hasChromium, minutesAgo, openPage, shown, useDashboard } from "./support/dashboard.ts";
import { newId } from "./support/http.ts";

const van = { vehicleId: newId(), meterId: newId() };
const truck = newId();
const unnamed = newId();

const rig = useDashboard(async ({ send }) => {
  await send("/v1/mappings", van, 201);
  const meters = [];
  const vehicles = [];
  for (const minutes of [300, 120, 30]) {
    meters.push({ meterId: van.meterId, kwhConsumedAc: 3, voltage: 230, timestamp: minutesAgo(minutes) });
    vehicles.push({
      vehicleId: van.vehicleId,
      soc: 50,
      kwhDeliveredDc: 3.3,
      batteryTemp: 25,
      timestamp: minutesAgo(minutes),
    });
    for (const vehicleId of [truck, unnamed]) {
      vehicles.push({ vehicleId, soc: 60, kwhDeliveredDc: 1, batteryTemp: 24, timestamp: minutesAgo(minutes) });
    }
  }
  // Two days ago: inside 7 days, outside the last 24 hours.
  vehicles.push({ vehicleId: truck, soc: 61, kwhDeliveredDc: 9, batteryTemp: 24, timestamp: minutesAgo(48 * 60) });
  await send("/v1/telemetry/batch", { meters, vehicles }, 201);
  await send(`/v1/vehicles/${van.vehicleId}/profile`, { name: "Van 042" }, 201, "PUT");
  await send(`/v1/vehicles/${truck}/profile`, { name: "Truck 7" }, 201, "PUT");
  await send(`/v1/meters/${van.meterId}/profile`, { name: "Depot bay 7" }, 201, "PUT");
});

async function searchFor(page: Page, text: string, id: string) {
  await page.fill("#search", text);
  await page.waitForSelector(`#search-results a[data-device="${id}"]`, { timeout: 10_000 });
}

// The truck has no meter: its DC is the fleet's unpaired DC, shown beside the headline.
const fleetDc = (page: Page) => page.getAttribute('#unpaired [data-figure="unpairedDc"]', "data-value");

describe.skipIf(!hasChromium)("finding, naming and keeping in Chromium", () => {
  it(
    "finds vehicles and meters by name or the start of an id, and opens them",
    async () => {
      const { page, errors } = await openPage(rig, "/");
      await shown(page, "fleet");
      await searchFor(page, "van 0", van.vehicleId);
      expect(await page.textContent("#search-results")).toContain("Van 042");
      await page.click(`#search-results a[data-device="${van.vehicleId}"]`);
      await shown(page, `vehicle:${van.vehicleId}`);
      expect(await page.isHidden("#search-results")).toBe(true);

      // The start of an id, and Enter opens the first found.
      await searchFor(page, truck.slice(0, 8).toUpperCase(), truck);
      await page.press("#search", "Enter");
      await shown(page, `vehicle:${truck}`);
      expect(await page.textContent("#vehicle-name")).toBe("Truck 7");

      // A meter by name: its view lists the vehicle it feeds, one click away.
      await searchFor(page, "BAY 7", van.meterId);
      expect(await page.getAttribute(`#search-results li:has(a[data-device="${van.meterId}"])`, "data-kind")).toBe(
        "meter",
      );
      await page.click(`#search-results a[data-device="${van.meterId}"]`);
      await shown(page, `meter:${van.meterId}`);
      expect(await page.textContent("#meter-name")).toBe("Depot bay 7");
      await page.click(`#meter-links a[data-device="${van.vehicleId}"]`);
      await shown(page, `vehicle:${van.vehicleId}`);

      await page.fill("#search", "nothing is called this");
      await page.waitForSelector("#search-results li.empty");
      expect(await page.textContent("#search-results")).toContain("Nothing found");
      expect(errors).toEqual([]);
      await page.close();
    },
    BROWSER_TEST_MS,
  );

  it(
    "shows names beside ids in the fleet tables, the vehicle heading and its links",
    async () => {
      const { page, errors } = await openPage(rig, "/");
      await shown(page, "fleet");
      const nameIn = (id: string) => page.locator(`#fleet-view a[data-device="${id}"] .name`).first().textContent();
      expect(await nameIn(van.vehicleId)).toBe("Van 042");
      expect(await nameIn(truck)).toBe("Truck 7");
      expect(await nameIn(unnamed)).toBe(`${unnamed.slice(0, 8)}…`); // no name: the id's start
      expect(await page.locator(`#fleet-view a[data-device="${unnamed}"] .id`).first().textContent()).toBe(unnamed);

      await page.locator(`#fleet-view a[data-device="${van.vehicleId}"]`).first().click();
      await shown(page, `vehicle:${van.vehicleId}`);
      expect(await page.textContent("#vehicle-name")).toBe("Van 042");
      expect(await page.textContent("#vehicle-id")).toBe(van.vehicleId);
      expect(await page.locator(`#links a[data-device="${van.meterId}"] .name`).textContent()).toBe("Depot bay 7");
      expect(errors).toEqual([]);
      await page.close();
    },
    BROWSER_TEST_MS,
  );

  it(
    "keeps the view, window and bucket in the URL through a reload and a shared link",
    async () => {
      const { page, errors } = await openPage(rig, "/");
      await shown(page, "fleet");
      const dayDc = Number(await fleetDc(page));
      await page.selectOption("#window", "7d");
      await page.waitForFunction(() => location.hash === "#fleet?window=7d");
      await page.waitForFunction((before) => {
        const value = document.querySelector('#unpaired [data-figure="unpairedDc"]')?.getAttribute("data-value");
        return Number(value) > before;
      }, dayDc);
      const weekDc = Number(await fleetDc(page));
      expect(weekDc).toBeCloseTo(dayDc + 9, 6);

      await page.locator(`#fleet-view a[data-device="${truck}"]`).first().click();
      await shown(page, `vehicle:${truck}`);
      await page.check('input[name=bucket][value="day"]');
      await page.waitForFunction(() => location.hash.includes("bucket=day"));
      const link = page.url();
      expect(link).toContain(`#vehicle/${truck}?window=7d&bucket=day`);

      await page.reload();
      await shown(page, `vehicle:${truck}`);
      expect(await page.inputValue("#window")).toBe("7d");
      expect(await page.isChecked('input[name=bucket][value="day"]')).toBe(true);
      expect(Number(await page.getAttribute('#vehicle-figures [data-figure="dc"]', "data-value"))).toBe(12);

      // The same link in another tab: the same view.
      const { page: shared } = await openPage(rig, link.slice(link.indexOf("#") - 1));
      await shown(shared, `vehicle:${truck}`);
      expect(await shared.inputValue("#window")).toBe("7d");
      await shared.close();

      // A custom window: its two ends travel as UTC instants and come back in the form.
      await page.goto(`${rig.url}#fleet`);
      await shown(page, "fleet");
      await page.selectOption("#window", "custom");
      await page.fill("#from", "2026-01-05T08:00");
      await page.fill("#to", "2026-01-06T08:00");
      await page.click("#window-form button[type=submit]");
      await page.waitForFunction(() => location.hash.includes("window=custom"));
      await shown(page, "fleet");
      await page.reload();
      await shown(page, "fleet");
      expect(await page.inputValue("#window")).toBe("custom");
      expect(await page.inputValue("#from")).toBe("2026-01-05T08:00");
      expect(await page.inputValue("#to")).toBe("2026-01-06T08:00");
      expect(await page.getAttribute("#fleet-view", "data-from")).toBe(new Date("2026-01-05T08:00").toISOString());
      expect(errors).toEqual([]);
      await page.close();
    },
    BROWSER_TEST_MS,
  );

  it(
    "says a custom window needs both ends, rather than showing the last 24 hours",
    async () => {
      const { page } = await openPage(rig, "/");
      await shown(page, "fleet");
      const asked: string[] = [];
      page.on("request", (request) => {
        if (request.url().includes("/v1/analytics/")) asked.push(request.url());
      });
      await page.selectOption("#window", "custom");
      await page.fill("#from", "2026-01-05T08:00");
      await page.click("#window-form button[type=submit]");
      await shown(page, "window-error");
      expect(await page.textContent("#message")).toBe(
        "Custom window: fill in To (both ends are needed), then press Show.",
      );
      expect(await page.isVisible("#message")).toBe(true);
      expect(asked).toEqual([]);

      // Reversed ends: said too.
      await page.fill("#to", "2026-01-04T08:00");
      await page.click("#window-form button[type=submit]");
      await page.waitForFunction(() =>
        document.querySelector("#message")?.textContent?.includes("From must be before To"),
      );
      expect(asked).toEqual([]);
      await page.close();
    },
    BROWSER_TEST_MS,
  );

  it(
    "downloads the fleet and a vehicle's series as CSV, the same files the API answers",
    async () => {
      const { page, errors } = await openPage(rig, "/");
      await shown(page, "fleet");
      const check = async (link: string, expectedName: RegExp) => {
        const href = (await page.getAttribute(link, "href")) ?? "";
        expect(href).toContain("format=csv");
        const [download] = await Promise.all([page.waitForEvent("download"), page.click(link)]);
        expect(download.suggestedFilename()).toMatch(expectedName);
        const saved = await readFile((await download.path()) as string, "utf8");
        const fromApi = await (await fetch(new URL(href, rig.url))).text();
        expect(saved).toBe(fromApi);
        return saved;
      };
      const fleet = await check("#fleet-csv", /^fleet_\d{8}T\d{4}Z_\d{8}T\d{4}Z\.csv$/);
      expect(fleet).toContain(`${van.vehicleId},Van 042,`);
      expect(fleet.trim().split("\r\n")).toHaveLength(4);

      await page.goto(`${rig.url}#vehicle/${van.vehicleId}`);
      await shown(page, `vehicle:${van.vehicleId}`);
      const series = await check("#series-csv", new RegExp(`^vehicle_${van.vehicleId}_hour_.*\\.csv$`));
      expect(series.split("\r\n")[0]).toStartWith("start,ac_kwh,dc_kwh");
      expect(errors).toEqual([]);
      await page.close();
    },
    BROWSER_TEST_MS,
  );
});
