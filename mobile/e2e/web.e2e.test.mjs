// The mobile app's web export in Debian's Chromium against the real API: a trader signs in and sees the
// markets live (a trade made elsewhere moves the price on screen without a reload). Screenshots go to
// test-results/.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";

import { ROOT } from "../../tests/e2e/lib/backend.mjs";
import { launchChromium } from "../../tests/e2e/lib/chromium.mjs";
import { serveWebApp } from "../../tests/e2e/lib/webapp.mjs";
import { startMobileBackend } from "./backend.mjs";

const RESULTS = join(ROOT, "test-results");
const DIST = fileURLToPath(new URL("../dist", import.meta.url));
const PASSWORD = "correct horse battery staple 42";
let backend;
let web;
let browser;
let page;
const pageErrors = [];

/** A trader made over plain HTTP (not through the app under test): registered, signed in, funded. */
async function trader(name, funds) {
  const email = `${name}-${Date.now()}@mobile.tessera.test`;
  const call = async (path, body, token) => {
    const response = await fetch(`${backend.origin}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    assert.ok(response.ok, `${path} answered ${response.status}: ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  await call("/api/v1/auth/register", { email, password: PASSWORD, display_name: name });
  const { access_token: token } = await call("/api/v1/auth/login", { email, password: PASSWORD });
  for (const [asset, amount] of Object.entries(funds)) await call("/api/v1/dev/faucet", { asset, amount }, token);
  return { email, order: (body) => call("/api/v1/orders", body, token) };
}

before(async () => {
  mkdirSync(RESULTS, { recursive: true });
  backend = await startMobileBackend();
  web = await serveWebApp(backend.origin, { dist: DIST });
  browser = await launchChromium();
  page = await browser.context.newPage();
  await page.setViewportSize({ width: 430, height: 932 });
  page.on("pageerror", (error) => pageErrors.push(error.message));
});

after(async () => {
  await browser?.close();
  await web?.close();
  await backend?.stop();
});

test("a trader signs in on the web build and sees the markets move live", async () => {
  const ada = await trader("ada", { USDT: "10000" });
  await page.goto(web.origin);
  await page.getByLabel("Email").fill(ada.email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();

  const row = page.getByRole("link", { name: /^BTC-USDT / });
  await row.waitFor();
  await page.getByText("● Live").waitFor();
  assert.match(await row.innerText(), /BTC\/USDT/);
  await page.screenshot({ path: join(RESULTS, "mobile-markets.png") });

  // Two other traders cross at 64000.5 while the page stays open: the row's last price follows.
  const maker = await trader("maker", { BTC: "1" });
  const taker = await trader("taker", { USDT: "10000" });
  await maker.order({ symbol: "BTC-USDT", side: "sell", type: "limit", price: "64000.5", quantity: "0.01", time_in_force: "GTC" });
  await taker.order({ symbol: "BTC-USDT", side: "buy", type: "market", quote_budget: "1000", time_in_force: "IOC" });
  await page.getByTestId("last-BTC-USDT").filter({ hasText: "64,000.50" }).waitFor({ timeout: 15_000 });
  await page.screenshot({ path: join(RESULTS, "mobile-markets-live.png") });

  await row.click();
  await page.getByLabel("Order ticket").waitFor();
  await page.getByLabel("Order book").waitFor();
  await page.screenshot({ path: join(RESULTS, "mobile-market.png"), fullPage: true });
  assert.deepEqual(pageErrors, []);
});
