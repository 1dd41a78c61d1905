// The API reference page at /docs works with no way out to the internet: its script is served by the service.
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Browser } from "playwright-core";
import { createApp } from "../src/app.ts";
import type { ReferenceScript } from "../src/openapi/reference-page.ts";
import { loadReferenceScript } from "../src/openapi/reference-script.ts";
import { CHROMIUM, CHROMIUM_ARGS, hasChromium } from "./support/chromium.ts";
import { useTestApp } from "./support/database.ts";

if (!hasChromium) console.log(`reference page browser test skipped: ${CHROMIUM} is missing (apt-get install chromium)`);

const t = useTestApp();
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
    });
    afterAll(async () => {
      await browser?.close();
      server?.stop(true);
    });

    it("renders the API's operations with nothing fetched from outside", async () => {
      const page = await browser.newPage();
      const outside: string[] = [];
      page.on("request", (request) => {
        const url = new URL(request.url());
        if (url.protocol.startsWith("http") && url.host !== new URL(server.url).host) outside.push(request.url());
      });
      await page.goto(new URL("/docs", server.url).toString());
      await page.getByText("/healthz").first().waitFor({ timeout: 30_000 });
      await page.getByText("Fleet energy telemetry", { exact: true }).first().waitFor({ timeout: 5_000 });
      expect(await page.title()).toContain("Fleet energy telemetry API");
      expect(outside).toEqual([]);
      await page.close();
    }, 60_000);
  });
});
