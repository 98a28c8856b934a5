// Picking a hub model with no connection (huggingface.co unreachable, routed to fail here as an
// offline machine or a school firewall would): a clear notice with Retry, the picker back on the
// model that is loaded, and every pane still showing that model's results.
import { test, expect } from "@playwright/test";

test("hub unreachable: 'cannot reach huggingface.co (offline?)', Retry, the loaded model kept", async ({ page }) => {
  let hubRequests = 0;
  await page.route("https://huggingface.co/**", (route) => {
    hubRequests++;
    return route.abort("internetdisconnected");
  });
  await page.goto("/index.html");
  await expect(page.getByTestId("model-config")).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId("topk-table").locator("tbody tr")).toHaveCount(10, { timeout: 30_000 });
  const tokensBefore = await page.getByTestId("tokens").locator("[data-position]").count();

  await page.getByTestId("model-select").selectOption("openai-community/gpt2");
  const notice = page.locator("[data-notice=error]");
  await expect(notice).toContainText("cannot reach huggingface.co (offline?)", { timeout: 60_000 });
  expect(hubRequests).toBeGreaterThan(0);

  // Back on the demo model, with its results in every pane (nothing left waiting).
  await expect(page.getByTestId("model-select")).toHaveValue("hooklab-demo");
  await expect(page.getByTestId("model-config")).toContainText("4 layers");
  await expect(page.getByTestId("topk-table").locator("tbody tr")).toHaveCount(10);
  await expect(page.getByTestId("tokens").locator("[data-position]")).toHaveCount(tokensBefore);
  await expect(page.getByText("Waiting for the model…")).toHaveCount(0);
  await expect(page).not.toHaveURL(/gpt2/);  // the share link names the model in use

  // Retry tries the hub again and fails the same clear way, still on the demo model.
  const before = hubRequests;
  await notice.getByRole("button", { name: "Retry" }).click();
  await expect(page.locator("[data-notice=error]")).toContainText("cannot reach huggingface.co (offline?)", { timeout: 60_000 });
  expect(hubRequests).toBeGreaterThan(before);
  await expect(page.getByTestId("model-select")).toHaveValue("hooklab-demo");
  await expect(page.getByTestId("topk-table").locator("tbody tr")).toHaveCount(10);
});
