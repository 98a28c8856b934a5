// Embeds on a course page from ANOTHER origin, served by the static host (static-host.mjs), as
// documented in docs/embed-example.html: the one-line <hooklab-experiment> and the plain iframe,
// on a page without COEP (lab on a host with no headers) and on a cross-origin isolated page (lab
// on a host that sends the README's headers). The element sizes its frame to the lab's content
// (postMessage, origin-checked) and the lab stays usable 480 px wide.
import { test, expect, type Page } from "@playwright/test";
import type { Server } from "node:http";
import { startStaticHost } from "./static-host.mjs";

const servers: Server[] = [];
const urls = { plainCourse: "", coepCourse: "" };

async function host(dir: string, headers: "none" | "isolation", lab?: string): Promise<string> {
  const server = await startStaticHost({ port: 0, dir, headers, lab });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
}

test.beforeAll(async () => {
  // Each course page and its lab on different ports: different origins.
  urls.plainCourse = `${await host("docs", "none", await host("web/dist", "none"))}embed-example.html`;
  urls.coepCourse = `${await host("docs", "isolation", await host("web/dist", "isolation"))}embed-example.html`;
});
test.afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
});

/** The iframe's height and the height of the lab's content inside it. */
async function heights(page: Page): Promise<{ frame: number; content: number }> {
  const frame = await page.locator("hooklab-experiment iframe").evaluate((f) => (f as HTMLIFrameElement).getBoundingClientRect().height);
  const content = await page.frameLocator("hooklab-experiment iframe").locator("#app")
    .evaluate((app) => app.getBoundingClientRect().bottom + parseFloat(getComputedStyle(document.body).marginBottom));
  return { frame, content };
}

async function expectSizedToContent(page: Page): Promise<void> {
  await expect.poll(async () => {
    const h = await heights(page);
    return Math.abs(h.frame - 2 - h.content);  // 2: the frame's 1 px border, top and bottom
  }, { timeout: 20_000 }).toBeLessThanOrEqual(2);
}

for (const course of ["plainCourse", "coepCourse"] as const) {
  test(`embeds from another origin on a ${course === "plainCourse" ? "plain" : "COEP (isolated)"} course page`, async ({ page }) => {
    await page.goto(urls[course]);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(course === "coepCourse");
    const component = page.frameLocator("hooklab-experiment iframe");
    await expect(component.locator('[data-heatmap="patch-resid_pre"]')).toBeVisible({ timeout: 120_000 });
    await expect(component.getByTestId("model-config")).toContainText("layers");
    const plain = page.frameLocator('iframe[src*="view=predict"]');
    await expect(plain.getByTestId("topk-table").locator("tbody tr").first()).toBeVisible({ timeout: 120_000 });

    // Sized to its content, not the 560 px default; a message from another window is ignored.
    await expectSizedToContent(page);
    const before = (await heights(page)).frame;
    expect(before).not.toBe(562);
    await page.evaluate(() => window.postMessage({ type: "hooklab:height", height: 3000 }, "*"));
    await page.waitForTimeout(300);
    expect((await heights(page)).frame).toBe(before);

    // 480 px wide: nothing cut off on the right, and the frame follows the taller content.
    await page.locator("hooklab-experiment").evaluate((e) => { (e as HTMLElement).style.display = "block"; (e as HTMLElement).style.width = "480px"; });
    await expectSizedToContent(page);
    const overflow = await component.locator("html").evaluate((html) => html.scrollWidth - html.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
  });
}
