// Browser tests in Debian's Chromium (Playwright cannot download browsers here, and must not).
// WebGPU runs on SwiftShader, so the WebGPU path is tested on any machine.
import { defineConfig } from "@playwright/test";

const port = Number(process.env.HOOKLAB_TEST_PORT ?? 4173);

export default defineConfig({
  testDir: "tests/browser",
  timeout: 180_000,
  expect: { timeout: 30_000 },
  workers: 1,
  reporter: [["list"]],
  outputDir: "build/playwright-results",
  snapshotPathTemplate: "tests/browser/screenshots/{arg}{ext}",
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: {
      executablePath: process.env.HOOKLAB_CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--headless=new", "--no-sandbox", "--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader",
        "--enable-features=Vulkan", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run",
      ],
    },
  },
  webServer: {
    command: `node tests/browser/server.mjs --port ${port}`,
    url: `http://127.0.0.1:${port}/harness.html`,
    reuseExistingServer: false,
    timeout: 30_000,
  },
});
