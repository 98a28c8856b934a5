// The production build (web/dist) on the static hosts a course uses, mimicked by
// tests/browser/static-host.mjs: a host that sends no headers (GitHub Pages, an LMS file area),
// a web server that sends COOP/COEP, and a deep sub-path. Threads must be on wherever the page
// can be cross-origin isolated: by the headers, or by coi-serviceworker where there are none.
import { test, expect, type Page } from "@playwright/test";
import type { Server } from "node:http";
import { startStaticHost } from "./static-host.mjs";

const SUB_PATH = "/courses/interp-101/files/hooklab/";
const PORT = { none: 0, isolation: 0, subPath: 0 };
const servers: Server[] = [];

// Free ports chosen by the system: several engineers' test runs share this machine.
async function host(options: { headers: "none" | "isolation"; base?: string }): Promise<number> {
  const server = await startStaticHost({ port: 0, dir: "web/dist", ...options });
  servers.push(server);
  return (server.address() as { port: number }).port;
}

test.beforeAll(async () => {
  PORT.none = await host({ headers: "none" });
  PORT.isolation = await host({ headers: "isolation" });
  PORT.subPath = await host({ headers: "none", base: SUB_PATH });
});
test.afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
});

interface Loaded { isolated: boolean; variant: string | undefined; controlled: boolean; badge: string; predictions: number }

/** Opens the lab, waits for the demo model and its predictions, and reports how it runs. */
async function openLab(page: Page, url: string): Promise<Loaded> {
  await page.goto(url);
  // Without headers the service worker reloads the page once; the model loads after that.
  await expect(page.getByTestId("model-config")).toBeVisible({ timeout: 90_000 });
  await expect(page.getByTestId("topk-table").locator("tbody tr").first()).toBeVisible({ timeout: 60_000 });
  return page.evaluate(() => {
    const lab = (window as unknown as { hooklabLab: { lab: { state: { variant?: string } } } }).hooklabLab.lab;
    return {
      isolated: crossOriginIsolated,
      variant: lab.state.variant,
      controlled: navigator.serviceWorker?.controller != null,
      badge: document.querySelector("[data-testid=backend-badge]")?.textContent ?? "",
      predictions: document.querySelectorAll("[data-testid=topk-table] tbody tr").length,
    };
  });
}

test("no headers (GitHub Pages, LMS): the service worker isolates the page and the threaded build runs", async ({ page }) => {
  const run = await openLab(page, `http://127.0.0.1:${PORT.none}/index.html`);
  expect(run).toMatchObject({ isolated: true, variant: "mt", controlled: true });
  expect(run.badge).toMatch(/\d+ threads/);
  expect(run.predictions).toBeGreaterThan(0);
});

test("COOP/COEP headers: isolated without the service worker, threaded build", async ({ page }) => {
  const run = await openLab(page, `http://127.0.0.1:${PORT.isolation}/`);
  expect(run).toMatchObject({ isolated: true, variant: "mt", controlled: false });
  expect(run.badge).toMatch(/\d+ threads/);
});

test("a sub-path without headers: assets resolve relative to it, the service worker's scope is the lab's folder", async ({ page }) => {
  const run = await openLab(page, `http://127.0.0.1:${PORT.subPath}${SUB_PATH}`);
  expect(run).toMatchObject({ isolated: true, variant: "mt", controlled: true });
  const scope = await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.scope);
  expect(scope).toBe(`http://127.0.0.1:${PORT.subPath}${SUB_PATH}`);
  // A shared link on the sub-path reopens the same experiment there.
  await page.getByTestId("prompt").fill("The cat sat on the mat");
  await expect(page).toHaveURL(/#.*v=1/, { timeout: 10_000 });
  const shared = page.url();
  expect(shared.startsWith(`http://127.0.0.1:${PORT.subPath}${SUB_PATH}`)).toBe(true);
  const second = await page.context().newPage();
  await second.goto(shared);
  await expect(second.getByTestId("prompt")).toHaveValue("The cat sat on the mat", { timeout: 60_000 });
});

test.describe("service workers blocked (isolation impossible)", () => {
  test.use({ serviceWorkers: "block" });
  test("no headers and no service worker: the single-threaded build still runs the lab", async ({ page }) => {
    const run = await openLab(page, `http://127.0.0.1:${PORT.none}/index.html`);
    expect(run).toMatchObject({ isolated: false, variant: "st", controlled: false });
    expect(run.badge).toContain("1 thread");
    expect(run.predictions).toBeGreaterThan(0);
  });
});
