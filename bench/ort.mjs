// The onnxruntime-web peer shared by the browser benchmarks: its runtime copied where the test
// server serves it isolated, and its page (bench/pages/ort.html) opened on an ONNX export.
import { copyFileSync, existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const ORT_FILES = ["ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"];

/** onnxruntime-web's wasm runtime into build/bench/ort/, which the test server serves isolated. */
export function copyOrtRuntime() {
  const from = join(root, "node_modules/onnxruntime-web/dist");
  const to = join(root, "build/bench/ort");
  if (!existsSync(from)) throw new Error("onnxruntime-web is missing: npm install");
  mkdirSync(to, { recursive: true });
  for (const f of ORT_FILES) {
    const dst = join(to, f);
    if (!existsSync(dst) || statSync(dst).size !== statSync(join(from, f)).size) copyFileSync(join(from, f), dst);
  }
}

/** The ORT page with a session on `model` (a URL under /repo/) and `threads` threads. */
export async function openOrt(browser, url, threads, model = "/repo/build/bench/gpt2-small-random.onnx") {
  const page = await browser.newPage();
  page.on("pageerror", (e) => console.error("ort page error:", e.message));
  page.on("console", (msg) => msg.type() === "warning" && console.error("ort:", msg.text()));
  await page.goto(`${url}/repo/bench/pages/ort.html`);
  await page.waitForFunction(() => document.documentElement.dataset.ready === "true");
  const info = await page.evaluate(({ model, threads }) => window.ortPeer.load(model, threads), { model, threads });
  if (threads > 1 && !info.isolated) throw new Error("the ORT page is not cross-origin isolated: no threads");
  return { page, info };
}
