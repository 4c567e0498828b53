// Operations in two browsers against the real API: an administrator halts a market with its kill switch from
// the Operations page, which cancels a trader's resting order (its hold released) and refuses new orders as
// halted; resuming lets orders in again. The administrator credits a wire to the trader, found by email, once
// however often it is sent. Only administrators see the page, and they do not review compliance.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";

import { api, eventually, faucet, RESULTS, seriousViolations, signIn, signUp } from "./lib/trader.mjs";
import { useVenue } from "./lib/venue.mjs";

// The administrator among the dev backend's demo accounts (server_fastapi/auth/demo.py).
const ADMIN = { email: "dev@demo.tessera.test", password: "Tessera-demo-pass-4" };
const RESTING_BUY = { symbol: "BTC-USDT", side: "buy", type: "limit", price: "50000", quantity: "0.001", time_in_force: "GTC" };

let admin;
let trader;
let traderEmail;

const venue = useVenue(async () => {
  admin = await venue.openPage("admin");
  trader = await venue.openPage("trader");
});
const { pageErrors } = venue;

async function usdt() {
  const balances = await api(trader, "GET", "/api/v1/balances");
  return balances.body.find((balance) => balance.asset === "USDT");
}

test("an administrator halts a market, which cancels its resting orders and refuses new ones, then resumes it", async (t) => {
  traderEmail = await signUp(trader, venue.web.origin, "Halt Watcher");
  await faucet(trader, "USDT", "1000");
  const resting = await api(trader, "POST", "/api/v1/orders", RESTING_BUY);
  assert.equal(resting.status, 201, JSON.stringify(resting.body));
  assert.equal(resting.body.status, "open");
  assert.equal((await usdt()).held, "50");

  await signIn(admin, venue.web.origin, ADMIN.email, ADMIN.password);
  assert.equal(await admin.getByRole("link", { name: "Compliance" }).count(), 0);
  await admin.getByRole("link", { name: "Operations" }).click();
  await admin.getByRole("heading", { name: "Operations", level: 1 }).waitFor();
  const markets = admin.getByRole("table", { name: "Markets and their kill switches" });
  const row = markets.getByRole("row").filter({ hasText: "BTC-USDT" });
  assert.equal(await row.getByRole("status", { name: "BTC-USDT kill switch" }).innerText(), "Trading");
  assert.deepEqual(await seriousViolations(admin, t), []);

  await row.getByLabel("Reason to halt BTC-USDT").fill("Price feed incident drill");
  await row.getByRole("button", { name: "Halt BTC-USDT" }).click();
  await row.getByRole("status", { name: "BTC-USDT kill switch" }).getByText("Halted").waitFor();
  await row.getByText(/Price feed incident drill/).waitFor();
  await admin.screenshot({ path: join(RESULTS, "operations-halted.png"), fullPage: true });

  const canceled = await eventually("the resting order canceled by the halt", async () => {
    const order = await api(trader, "GET", `/api/v1/orders/${resting.body.id}`);
    return order.body.status === "canceled" ? order.body : null;
  });
  t.diagnostic(`canceled: ${canceled.cancel_reason}`);
  assert.deepEqual(await usdt(), { asset: "USDT", available: "1000", held: "0" });
  const refused = await api(trader, "POST", "/api/v1/orders", RESTING_BUY);
  assert.equal(refused.status, 409, JSON.stringify(refused.body));
  assert.equal(refused.body.type, "urn:tessera:problem:market-halted");
  assert.deepEqual(await usdt(), { asset: "USDT", available: "1000", held: "0" });

  await row.getByRole("button", { name: "Resume BTC-USDT" }).click();
  await row.getByRole("status", { name: "BTC-USDT kill switch" }).getByText("Trading").waitFor();
  const again = await api(trader, "POST", "/api/v1/orders", RESTING_BUY);
  assert.equal(again.status, 201, JSON.stringify(again.body));
  assert.deepEqual(pageErrors, []);
});

test("an administrator credits a wire to the trader found by email, once however often it is sent", async (t) => {
  const before = await usdt();
  await admin.getByLabel("Account email").fill(traderEmail);
  await admin.getByRole("button", { name: "Find account" }).click();
  const form = admin.getByRole("form", { name: "Deposit" });
  await form.getByText("Halt Watcher").waitFor();
  await form.getByLabel("Asset").selectOption("USDT");
  await form.getByLabel("Amount").fill("250");
  await form.getByLabel("External reference").fill("wire-e2e-1");
  await form.getByRole("button", { name: "Credit deposit" }).click();
  await form.getByRole("status").getByText(/^Credited under wire-e2e-1\./).waitFor();
  const after = await usdt();
  t.diagnostic(`USDT ${before.available} -> ${after.available}`);
  assert.equal(Number(after.available), Number(before.available) + 250);

  await form.getByRole("button", { name: "Credit deposit" }).click();
  await form.getByRole("status").getByText(/^wire-e2e-1 was credited before; nothing moved\./).waitFor();
  assert.deepEqual(await usdt(), after);
  await admin.screenshot({ path: join(RESULTS, "operations-deposit.png"), fullPage: true });
  assert.deepEqual(await seriousViolations(admin, t), []);
  assert.deepEqual(pageErrors, []);
});

test("a trader can neither see nor open the Operations page, nor switch a market", async () => {
  await trader.goto(`${venue.web.origin}/admin`);
  await trader.waitForURL(/\/markets$/);
  assert.equal(await trader.getByRole("link", { name: "Operations" }).count(), 0);
  const attempt = await api(trader, "POST", "/api/v1/admin/trading/halts", { symbol: "BTC-USDT", halted: true, reason: "not mine" });
  assert.equal(attempt.status, 403, JSON.stringify(attempt.body));
  assert.deepEqual(pageErrors, []);
});
