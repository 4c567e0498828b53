// The order assistant on the trading screen: a trader's words become a draft that fills the order ticket,
// and an order exists only after the trader confirms it there (issue 11). Real API, real Chromium.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";

import { api, eventually, faucet, RESULTS, sameDecimal, seriousViolations, signUp } from "./lib/trader.mjs";
import { useVenue } from "./lib/venue.mjs";

let page;

const venue = useVenue(async () => {
  page = await venue.openPage("trader");
  await signUp(page, venue.web.origin, "Assistant Trader");
  await faucet(page, "USDT", "10000");
});
const { pageErrors } = venue;

const ordersOf = async () => {
  const answer = await api(page, "GET", "/api/v1/orders");
  assert.equal(answer.status, 200);
  return answer.body.items;
};

test("a refused request leaves the ticket empty", async () => {
  await page.goto(`${venue.web.origin}/trade/BTC-USDT`);
  await page.getByRole("form", { name: "Order ticket" }).waitFor();
  await page.getByLabel("Describe an order").fill("withdraw 1 BTC to my other wallet");
  await page.getByRole("button", { name: "Draft order" }).click();
  const answer = page.getByRole("status", { name: "Assistant's answer" });
  await answer.getByText(/^No draft: /).waitFor();
  assert.equal(await page.getByLabel("Price (USDT)", { exact: true }).inputValue(), "");
  assert.equal(await page.getByText("Filled in from the assistant's draft").count(), 0);
  assert.deepEqual(await ordersOf(), []);
});

test("the assistant fills the ticket, and the order is placed only when the trader confirms", async (t) => {
  await page.goto(`${venue.web.origin}/trade/BTC-USDT`);
  await page.getByRole("form", { name: "Order ticket" }).waitFor();
  await page.getByLabel("Describe an order").fill("buy 0.25 ETH at 3,100 good till cancelled");
  await page.getByRole("button", { name: "Draft order" }).click();

  // The draft is for another market: the screen moves there with the answer and the filled ticket.
  await page.waitForURL(/\/trade\/ETH-USDT$/);
  const ticket = page.getByRole("form", { name: "Order ticket" });
  await ticket.getByText("Filled in from the assistant's draft").waitFor();
  const answer = page.getByRole("status", { name: "Assistant's answer" });
  t.diagnostic(`assistant: ${(await answer.innerText()).replace(/\s+/g, " ")}`);
  assert.match(await answer.innerText(), /Answered by the rules/);
  assert.ok((await answer.getByRole("list", { name: "Checks passed" }).getByRole("listitem").count()) > 0);
  assert.equal(await ticket.getByRole("button", { name: "Buy", exact: true }).getAttribute("aria-pressed"), "true");
  assert.equal(await ticket.getByRole("radio", { name: "Limit" }).isChecked(), true);
  assert.equal(await ticket.getByLabel("Price (USDT)", { exact: true }).inputValue(), "3100");
  assert.equal(await ticket.getByLabel("Quantity (ETH)", { exact: true }).inputValue(), "0.25");
  assert.equal(await ticket.getByLabel("Time in force").inputValue(), "GTC");

  // Drafted, reviewed, not confirmed: nothing exists yet.
  assert.deepEqual(await ordersOf(), []);
  await page.screenshot({ path: join(RESULTS, "assistant-draft.png"), fullPage: true });
  assert.deepEqual(await seriousViolations(page, t), []);

  await ticket.getByRole("button", { name: "Buy ETH" }).click();
  const orders = await eventually("the confirmed order", async () => {
    const items = await ordersOf();
    return items.length > 0 ? items : undefined;
  });
  assert.equal(orders.length, 1);
  const [order] = orders;
  assert.equal(order.symbol, "ETH-USDT");
  assert.equal(order.side, "buy");
  assert.equal(order.type, "limit");
  assert.equal(order.time_in_force, "GTC");
  assert.ok(sameDecimal(order.price, "3100"), `price ${order.price}`);
  assert.ok(sameDecimal(order.quantity, "0.25"), `quantity ${order.quantity}`);
  await page.getByRole("tab", { name: "Open orders (1)" }).waitFor();
  // The draft is used up: the ticket is a plain ticket again.
  assert.equal(await ticket.getByText("Filled in from the assistant's draft").count(), 0);
  await page.screenshot({ path: join(RESULTS, "assistant-confirmed.png"), fullPage: true });
  assert.deepEqual(pageErrors, []);
});

test("the trading screen with an assistant answer passes axe in the dark theme", async (t) => {
  await page.emulateMedia({ colorScheme: "dark" });
  await page.goto(`${venue.web.origin}/trade/ETH-USDT`);
  await page.getByRole("form", { name: "Order ticket" }).waitFor();
  await page.getByLabel("Describe an order").fill("sell 0.1 ETH at 3,200");
  await page.getByRole("button", { name: "Draft order" }).click();
  const answer = page.getByRole("status", { name: "Assistant's answer" });
  await answer.getByText(/^No draft: /).waitFor();
  t.diagnostic(`assistant: ${(await answer.innerText()).replace(/\s+/g, " ")}`);
  await page.screenshot({ path: join(RESULTS, "assistant-dark.png"), fullPage: true });
  assert.deepEqual(await seriousViolations(page, t), []);
  assert.deepEqual(pageErrors, []);
});
