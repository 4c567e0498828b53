// A new trader signs up through the built app against the real API, sees the markets, a market's trading
// screen, and is kept out of the compliance page. Each step saves a screenshot into test-results/.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";

import { RESULTS, seriousViolations } from "./lib/trader.mjs";
import { useVenue } from "./lib/venue.mjs";

let page;

const venue = useVenue(async () => {
  page = await venue.openPage("trader");
});
const { pageErrors } = venue;

test("a new trader signs up and lands on the markets", async (t) => {
  await page.goto(`${venue.web.origin}/signup`);
  await page.getByLabel("Name").fill("Ada Trader");
  await page.getByLabel("Email").fill(`ada-${Date.now()}@example.com`);
  await page.getByLabel("Password").fill("correct horse battery staple 42");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(/\/markets$/);
  await page.getByRole("heading", { name: "Markets" }).waitFor();
  await page.getByRole("status").filter({ hasText: /live|connecting|reconnecting/ }).first().waitFor();
  await page.screenshot({ path: join(RESULTS, "markets.png"), fullPage: true });
  assert.deepEqual(await seriousViolations(page, t), []);
  assert.deepEqual(pageErrors, []);
});

test("the trading screen of a market renders its ticket, book and chart", async (t) => {
  const first = page.getByRole("link", { name: /\/USDT$/ }).first();
  if ((await first.count()) === 0) {
    t.skip("no instruments in a fresh database");
    return;
  }
  await first.click();
  await page.getByRole("form", { name: "Order ticket" }).waitFor();
  await page.getByRole("table", { name: "Order book" }).waitFor();
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(RESULTS, "trade.png"), fullPage: true });
  assert.deepEqual(await seriousViolations(page, t), []);
  assert.deepEqual(pageErrors, []);
});

test("a trader cannot open the compliance page", async () => {
  await page.goto(`${venue.web.origin}/compliance`);
  await page.waitForURL(/\/markets$/);
  assert.equal(await page.getByRole("link", { name: "Compliance" }).count(), 0);
  await page.screenshot({ path: join(RESULTS, "compliance-refused.png"), fullPage: true });
});

for (const path of ["/portfolio", "/withdrawals", "/settings"]) {
  test(`${path} renders for a trader without serious accessibility violations`, async (t) => {
    await page.goto(`${venue.web.origin}${path}`);
    await page.getByRole("heading", { level: 1 }).waitFor();
    await page.screenshot({ path: join(RESULTS, `${path.slice(1)}.png`), fullPage: true });
    assert.deepEqual(await seriousViolations(page, t), []);
    assert.deepEqual(pageErrors, []);
  });
}
