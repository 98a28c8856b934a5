#!/usr/bin/env node
// Writes docs/*.png: one screenshot per view of the lab on the bundled demo model, as linked
// from README.md. Needs a built lab (npm run build).   node scripts/screenshots.mjs
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { launchChromium, startServer } from "../bench/browser.mjs";

const root = new URL("..", import.meta.url).pathname;
const views = [
  ["predictions", "v=1", '[data-testid="topk-table"]'],
  ["inside", "v=1&view=inside&layer=1&head=0", '[data-heatmap="detect-induction"]'],
  ["patching", "v=1&view=patch", '[data-heatmap="patch-head_out"]'],
  ["dark-patching", "v=1&view=patch&sweeps=resid_pre", '[data-heatmap="patch-resid_pre"]'],
];
mkdirSync(join(root, "docs"), { recursive: true });
const server = await startServer(4191);
const browser = await launchChromium();
try {
  for (const [name, fragment, ready] of views) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, colorScheme: name.startsWith("dark") ? "dark" : "light" });
    await page.goto(`${server.url}/index.html#${fragment}`);
    await page.waitForSelector(ready, { timeout: 120_000 });
    await page.waitForTimeout(500);
    await page.screenshot({ path: join(root, "docs", `${name}.png`), fullPage: true });
    console.log(`docs/${name}.png`);
    await page.close();
  }
} finally {
  await browser.close();
  server.stop();
}
