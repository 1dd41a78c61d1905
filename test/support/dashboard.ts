// The dashboard's browser tests share this: the app with its page on a real port over a
// test database, Chromium (Debian's, through playwright-core), pages at a given width that
// record console errors, readings sent in real time (the page's windows end now), and the
// screenshot folder. Registers its own setup and teardown; skips without Chromium.
import { afterAll, beforeAll, expect } from "bun:test";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import type { AppDeps } from "../../src/app.ts";
import { bundleDashboard } from "../../src/dashboard/bundle.ts";
import { CHROMIUM, CHROMIUM_ARGS, hasChromium } from "./chromium.ts";
import { createTestApp, type TestApp } from "./database.ts";
import type { JsonBody } from "./http.ts";

export { hasChromium };
export const ARTIFACTS = join(import.meta.dir, "..", "artifacts");
export const BROWSER_TEST_MS = 60_000;
export const DESK = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

export interface DashboardRig {
  t: TestApp;
  url: string;
  browser: Browser;
  /** Sends a JSON body to the API (POST unless said), expecting `status`. */
  send(path: string, body: unknown, status: number, method?: string): Promise<JsonBody>;
  /** GETs JSON from the API, expecting a 200. */
  api(path: string): Promise<JsonBody>;
}

/** The rig, filled in before the file's first test; `seed` runs once it is up. */
export function useDashboard(seed: (rig: DashboardRig) => Promise<void>, overrides: Partial<AppDeps> = {}) {
  const rig = {} as DashboardRig;
  let server: ReturnType<typeof Bun.serve> | undefined;
  if (!hasChromium) console.log(`dashboard browser tests skipped: ${CHROMIUM} is missing (apt-get install chromium)`);
  beforeAll(async () => {
    if (!hasChromium) return;
    const dashboard = await bundleDashboard();
    rig.t = await createTestApp({ now: () => new Date(), thresholds: { minCoverage: 0 }, dashboard, ...overrides });
    server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (request) => rig.t.app.fetch(request) });
    rig.url = String(server.url);
    rig.send = async (path, body, status, method = "POST") => {
      const response = await fetch(new URL(path, rig.url), {
        method,
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      const answer = await response.json();
      expect({ path, status: response.status }).toEqual({ path, status });
      return answer;
    };
    rig.api = async (path) => {
      const response = await fetch(new URL(path, rig.url));
      expect({ path, status: response.status }).toEqual({ path, status: 200 });
      return response.json();
    };
    const { chromium } = await import("playwright-core");
    rig.browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    await mkdir(ARTIFACTS, { recursive: true });
    await seed(rig);
  }, 60_000);
  afterAll(async () => {
    if (!hasChromium) return;
    await rig.browser?.close();
    await server?.stop(true);
    expect(rig.t.unexpected).toEqual([]);
    await rig.t.close();
  });
  return rig;
}

/** A page of the given size on `path` of the rig; `errors` gathers console errors and page errors. */
export async function openPage(rig: DashboardRig, path: string, viewport = DESK) {
  const page = await rig.browser.newPage({ viewport, acceptDownloads: true });
  const errors: string[] = [];
  page.on("console", (message) => {
    // A 404 the page asked for on purpose (an unknown vehicle) is logged by the browser as a failed load.
    if (message.type() === "error" && !/status of 404/.test(message.text())) errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(new URL(path, rig.url).toString());
  return { page, errors };
}

/** Waits until the page says it shows `view` (body[data-view]). */
export const shown = (page: Page, view: string) =>
  page.waitForSelector(`body[data-view="${view}"]`, { timeout: 15_000 });

/** An instant `minutesAgo` before now, as the API takes it. */
export const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

export const screenshot = (page: Page, name: string) =>
  page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
