// The fleet page's tables fit in Chromium: at 1280 px every column of every table is on screen whole (coverage
// and max temperature of the needs-attention list included), at 390 px each vehicle is a card showing its key
// figures, and neither width scrolls sideways. Screenshots of the fleet at both widths go to test/artifacts/.
import { describe, expect, it } from "bun:test";
import type { Page } from "playwright-core";
import {
  BROWSER_TEST_MS,
  DESK,
  hasChromium,
  minutesAgo,
  openPage,
  PHONE,
  screenshot,
  shown,
  useDashboard,
} from "./support/dashboard.ts";
import { newId } from "./support/http.ts";

const FLEET = 30;
const ids = Array.from({ length: FLEET }, () => ({ vehicleId: newId(), meterId: newId() }));

// A fleet with every flag: overheating, DC above AC, no meter, and long names.
const rig = useDashboard(async ({ send }) => {
  const meters = [];
  const vehicles = [];
  for (const [index, pair] of ids.entries()) {
    const isMetered = index % 5 !== 0;
    if (isMetered) await send("/v1/mappings", pair, 201);
    for (const minutes of [150, 90, 30]) {
      const timestamp = minutesAgo(minutes + index);
      if (isMetered) meters.push({ meterId: pair.meterId, kwhConsumedAc: 1234.5 + index, voltage: 230, timestamp });
      const dc = index % 3 === 0 ? 1300 + index : 1100 + index; // every third above its AC
      const batteryTemp = index % 4 === 0 ? 66.5 : 31;
      vehicles.push({ vehicleId: pair.vehicleId, soc: 50, kwhDeliveredDc: dc, batteryTemp, timestamp });
    }
    const name = index % 2 === 0 ? `Depot North, long-haul van number ${index} of the fleet` : `Van ${index}`;
    if (index % 7 !== 6) await send(`/v1/vehicles/${pair.vehicleId}/profile`, { name }, 201, "PUT");
  }
  await send("/v1/telemetry/batch", { meters, vehicles }, 201);
});

/** Every table of the fleet view whose cells are cut or stick out of their card, described; none expected. */
function cutCells(page: Page) {
  return page.evaluate(() => {
    const problems: string[] = [];
    for (const table of document.querySelectorAll<HTMLTableElement>("#fleet-view table")) {
      const card = table.closest("article") as HTMLElement;
      const edge = card.getBoundingClientRect();
      if (card.scrollWidth > card.clientWidth) problems.push(`${card.querySelector("h2")?.textContent} scrolls`);
      for (const cell of table.querySelectorAll<HTMLElement>("th, td")) {
        if (cell.getClientRects().length === 0) continue; // not laid out: the phone's hidden header row
        const box = cell.getBoundingClientRect();
        const label = `${card.querySelector("h2")?.textContent}: ${cell.textContent}`;
        if (box.width === 0 || box.right > edge.right + 0.5 || box.left < edge.left - 0.5)
          problems.push(`${label} outside`);
        // A figure cut short; a device's name and id are shortened on purpose (whole in the title).
        if (!cell.querySelector(".device") && cell.scrollWidth > cell.clientWidth + 1) problems.push(`${label} cut`);
      }
    }
    return problems;
  });
}

const pageOverflow = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

describe.skipIf(!hasChromium)("fleet page layout in Chromium", () => {
  it(
    "shows every column of every table at 1280 px, coverage and max temperature of those needing attention too",
    async () => {
      const { page, errors } = await openPage(rig, "/", DESK);
      await shown(page, "fleet");
      expect(await page.locator("#attention tbody tr").count()).toBeGreaterThanOrEqual(15);
      expect(await pageOverflow(page)).toBe(0);
      expect(await cutCells(page)).toEqual([]);

      const headers = await page.locator("#attention th").allTextContents();
      expect(headers).toEqual(["Vehicle", "Quality flags", "Efficiency", "AC kWh", "DC kWh", "Coverage", "Max temp"]);
      for (const name of ["Coverage", "Max temp"]) {
        const column = headers.indexOf(name) + 1;
        for (const cell of await page.locator(`#attention tr > :nth-child(${column})`).all()) {
          expect(await cell.isVisible()).toBe(true);
          const box = await cell.boundingBox();
          expect(box && box.x + box.width <= DESK.width).toBe(true);
        }
      }
      const hotRow = page.locator(`#attention [data-vehicle-row="${ids[0]?.vehicleId}"]`);
      expect(await hotRow.locator("td").nth(6).textContent()).toBe("66.5 °C");
      expect(await hotRow.locator("td").nth(3).textContent()).toBe("0.000"); // no meter: no AC
      await screenshot(page, "fleet-desk");
      expect(errors).toEqual([]);
      await page.close();
    },
    BROWSER_TEST_MS,
  );

  it(
    "shows each vehicle's key figures as a card at 390 px, with nothing off to the side",
    async () => {
      const { page, errors } = await openPage(rig, "/", PHONE);
      await shown(page, "fleet");
      expect(await pageOverflow(page)).toBe(0);
      expect(await page.locator("#attention thead").isHidden()).toBe(true);
      const rows = await page.locator("#attention tbody tr").all();
      expect(rows.length).toBeGreaterThanOrEqual(15);
      for (const row of rows.slice(0, 8)) {
        for (const label of ["Efficiency", "AC kWh", "DC kWh", "Coverage", "Max temp"]) {
          const cell = row.locator(`td[data-label="${label}"]`);
          const box = await cell.boundingBox();
          expect(box && box.width > 0 && box.x >= 0 && box.x + box.width <= PHONE.width).toBe(true);
          // The label shows above the figure, so a card reads without the table's header.
          const shownLabel = await cell.evaluate((td) => getComputedStyle(td, "::before").content);
          expect(shownLabel).toBe(`"${label}"`);
        }
        const vehicle = await row.locator("td.vehicle .name").boundingBox();
        expect(vehicle && vehicle.x + vehicle.width <= PHONE.width).toBe(true);
      }
      expect(await cutCells(page)).toEqual([]);
      await screenshot(page, "fleet-phone");
      expect(errors).toEqual([]);
      await page.close();
    },
    BROWSER_TEST_MS,
  );

  it(
    "shows the energy with no other side beside the headline, when the service reports it",
    async () => {
      // The rig's fleet has vehicles with no meter: the page shows the API's own unpaired figures.
      const { unpaired } = (await rig.api("/v1/analytics/fleet")).totals;
      expect(unpaired.vehicles).toBeGreaterThan(0);
      const page = await rig.browser.newPage({ viewport: DESK });
      await page.goto(rig.url);
      await shown(page, "fleet");
      expect(await page.isVisible("#unpaired")).toBe(true);
      expect(Number(await page.getAttribute('[data-figure="unpairedDc"]', "data-value"))).toBe(unpaired.dcKwh);
      expect(await page.textContent("#unpaired")).toContain(`${unpaired.vehicles} vehicles`);
      await page.close();

      // Without it (an older service), nothing is shown in its place.
      const plain = await rig.browser.newPage({ viewport: DESK });
      await plain.route("**/v1/analytics/fleet?*", async (route) => {
        const response = await route.fetch();
        const body = await response.json();
        delete body.totals.unpaired;
        await route.fulfill({ response, json: body });
      });
      await plain.goto(rig.url);
      await shown(plain, "fleet");
      expect(await plain.isVisible("#unpaired")).toBe(false);
      await plain.close();
    },
    BROWSER_TEST_MS,
  );
});
