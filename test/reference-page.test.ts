// The API reference page at /docs works with no way out to the internet: its script is served by the service,
// every feature that calls a third party is off, and a browser clicking through it sends nothing outside.
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import type { Browser } from "playwright-core";
import { createApp } from "../src/app.ts";
import type { ReferenceScript } from "../src/openapi/reference-page.ts";
import { loadReferenceScript } from "../src/openapi/reference-script.ts";
import { CHROMIUM, CHROMIUM_ARGS, hasChromium } from "./support/chromium.ts";
import { useTestApp } from "./support/database.ts";

// Real processes, browsers or a whole simulated fleet: seconds each on a busy machine, more than the default five.
setDefaultTimeout(30_000);

if (!hasChromium) console.log(`reference page browser test skipped: ${CHROMIUM} is missing (apt-get install chromium)`);

const t = useTestApp();
// The page's script is 4.9 MB: on a busy two-core machine it takes tens of seconds to run.
const LOADED_WITHIN = 120_000;
let script: ReferenceScript;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  script = await loadReferenceScript();
  app = createApp({ sql: t.database.sql, db: t.database.db, writer: t.writer, referenceScript: script });
});

describe("GET /docs", () => {
  it("loads Scalar's script from the service itself, versioned and cached for good", async () => {
    const page = await (await app.request("/docs")).text();
    expect(script.path).toMatch(/^\/docs\/scalar-\d+\.\d+\.\d+\.js$/);
    expect(page).toContain(`src="${script.path}"`);
    expect(page).not.toContain("cdn.jsdelivr.net");
    const response = await app.request(script.path);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toStartWith("text/javascript");
    expect(response.headers.get("cache-control")).toContain("immutable");
    expect((await response.text()).length).toBe(script.body.length);
  });

  describe.skipIf(!hasChromium)("in Chromium", () => {
    let browser: Browser;
    let server: ReturnType<typeof Bun.serve>;
    beforeAll(async () => {
      const { chromium } = await import("playwright-core");
      server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (request) => app.fetch(request) });
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
      server?.stop(true);
    }, 30_000);

    it("renders and works through its operations, search and test client with nothing sent outside", async () => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const home = new URL(server.url).host;
      const outside: string[] = [];
      const refused: string[] = [];
      // Anything bound elsewhere is recorded and stopped before it leaves the machine.
      await page.route("**/*", (route) => {
        const url = new URL(route.request().url());
        if (url.protocol.startsWith("http") && url.host !== home) {
          outside.push(url.href);
          return route.abort();
        }
        return route.continue();
      });
      page.on("console", (message) => {
        if (/Content Security Policy/i.test(message.text())) refused.push(message.text());
      });
      await page.goto(new URL("/docs", server.url).toString(), { timeout: LOADED_WITHIN });
      await page.getByText("/healthz").first().waitFor({ timeout: LOADED_WITHIN });
      expect(await page.title()).toContain("Fleet energy telemetry API");

      // No feature that works through Scalar's servers is offered, nor any visible way out.
      for (const name of [/Ask AI/i, /Generate SDK/i, /Open API Client/i, /Developer Tools/i, /Deploy/i]) {
        expect(await page.getByRole("button", { name }).count()).toBe(0);
        expect(await page.getByRole("link", { name }).count()).toBe(0);
      }
      const links = await page
        .locator("a[href]")
        .evaluateAll((anchors) =>
          anchors
            .filter((anchor) => (anchor as HTMLElement).offsetParent !== null)
            .map((anchor) => (anchor as HTMLAnchorElement).href),
        );
      expect(links.filter((href) => href.startsWith("http") && new URL(href).host !== home)).toEqual([]);

      // An operation opened from the sidebar.
      await page.locator('a[href="#tag/telemetry"]').first().click();
      await page.getByText("Ingest one meter reading").first().waitFor({ timeout: 10_000 });
      await page.getByText("Ingest one meter reading").first().click();
      await page.getByText("kwhConsumedAc").first().waitFor({ timeout: 10_000 });

      // The search finds an operation by its words.
      await page
        .getByRole("button", { name: /Open Search/i })
        .first()
        .click();
      await page.keyboard.type("whole fleet");
      await page
        .getByText(/The whole fleet over a window/)
        .first()
        .waitFor({ timeout: 10_000 });
      await page.keyboard.press("Enter");
      await page.keyboard.press("Escape");

      // The test client calls this service and nothing else.
      await page
        .locator("button", { hasText: /Test Request.*get \/healthz/ })
        .first()
        .click();
      const send = page.getByRole("button", { name: /^Send/ }).first();
      await send.waitFor({ timeout: 10_000 });
      const answered = page.waitForResponse((response) => response.url().endsWith("/healthz"), { timeout: 10_000 });
      await send.click();
      expect((await answered).status()).toBe(200);
      await page.keyboard.press("Escape");

      expect(outside).toEqual([]);
      expect(refused).toEqual([]);
      await page.close();
    }, 240_000);
  });
});
