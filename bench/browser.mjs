// Shared plumbing of the browser benchmarks: start the test server, launch Debian's Chromium,
// open the engine harness (isolated for the pthreads build, plain for single-threaded).
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { chromium } from "playwright-core";

const root = new URL("..", import.meta.url).pathname;

/** The test server on `port`, serving `dist` (a web build folder) when given, else web/dist. */
export async function startServer(port = 4190, dist = undefined) {
  const args = [`${root}tests/browser/server.mjs`, "--port", String(port), ...(dist ? ["--dist", resolve(dist)] : [])];
  const server = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise((resolve, reject) => {
    server.stdout.on("data", (d) => String(d).includes("hooklab test server") && resolve());
    server.on("exit", (code) => reject(new Error(`test server exited (${code})`)));
  });
  return { url: `http://127.0.0.1:${port}`, stop: () => server.kill() };
}

const chromiumPath = () => process.env.HOOKLAB_CHROMIUM ?? "/usr/bin/chromium";
const quietArgs = ["--headless=new", "--no-sandbox", "--disable-background-networking", "--disable-component-update",
  "--disable-sync", "--no-first-run"];

export async function launchChromium(extraArgs = []) {
  return chromium.launch({ executablePath: chromiumPath(), args: [...quietArgs, ...extraArgs] });
}

/** A browser context with a profile directory of its own, as a user's browser has. Start-up
 *  times need it: in launchChromium's contexts (incognito-like) the Origin Private File System is
 *  kept in memory and read at about 150 MB/s, against GB/s from a profile on disk. Pages are
 *  opened with openHarness(context, ...) like a browser's. */
export async function launchPersistentChromium(userDataDir, extraArgs = []) {
  return chromium.launchPersistentContext(userDataDir, { executablePath: chromiumPath(), args: [...quietArgs, ...extraArgs] });
}

/** A page on the harness with window.hooklab ready; threads > 1 opens the isolated page.
 *  `browser`: a Browser (each page in a fresh context) or a BrowserContext. */
export async function openHarness(browser, baseUrl, threads) {
  const page = await browser.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  await page.goto(threads > 1 ? `${baseUrl}/harness.html` : `${baseUrl}/plain/harness.html`);
  await page.waitForFunction(() => document.documentElement.dataset.ready === "true");
  return page;
}
