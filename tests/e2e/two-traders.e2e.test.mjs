// Two traders in two browsers against the real API (issue 8): the first signs up, takes faucet funds and
// rests a limit sell; the second's market buy fills it. Neither page reloads, yet both see the fill, the
// book and their balances change. Screenshots of both pages go into test-results/.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";

import { eventually, faucet, RESULTS, seriousViolations, signUp } from "./lib/trader.mjs";
import { useVenue } from "./lib/venue.mjs";

const SYMBOL = "BTC-USDT";
const venue = useVenue();
const { pageErrors } = venue;

async function openTrader(name) {
  const page = await venue.openPage(name);
  await signUp(page, venue.web.origin, name);
  return page;
}

async function openTradeScreen(page) {
  await page.goto(`${venue.web.origin}/trade/${SYMBOL}`);
  await page.getByRole("form", { name: "Order ticket" }).waitFor();
  await page.getByRole("status").filter({ hasText: /^live$/ }).waitFor();
  // Set on this document only: still there at the end means the page never reloaded.
  await page.evaluate(() => {
    window.tesseraSameDocument = true;
  });
}

/** The displayed levels of one side of the book, as `{ price, size }` strings. */
function bookSide(page, side) {
  return page
    .getByRole("table", { name: "Order book" })
    .getByRole("rowgroup", { name: side })
    .getByRole("row")
    .evaluateAll((rows) => rows.map((row) => ({ price: row.cells[0]?.textContent ?? "", size: row.cells[1]?.textContent ?? "" })));
}

/** `{ available, held }` of an asset in the screen's balances table, as displayed. */
async function balance(page, asset) {
  const row = page.getByRole("table", { name: "Your balances" }).getByRole("row").filter({ has: page.getByRole("rowheader", { name: asset, exact: true }) });
  const cells = await row.getByRole("cell").allTextContents();
  return { available: cells[0], held: cells[1] };
}

async function fillsShown(page) {
  await page.getByRole("tab", { name: "Fills" }).click();
  return page.getByRole("table", { name: "Fills" }).getByRole("row").count().then((rows) => rows - 1);
}

test("a resting limit sell is filled by another trader's market buy, and both screens follow live", async (t) => {
  const seller = await openTrader("Sam Seller");
  await faucet(seller, "BTC", "1");
  await openTradeScreen(seller);

  const sellTicket = seller.getByRole("form", { name: "Order ticket" });
  await sellTicket.getByRole("button", { name: "Sell", exact: true }).click();
  await sellTicket.getByLabel("Price (USDT)", { exact: true }).fill("60000");
  await sellTicket.getByLabel("Quantity (BTC)", { exact: true }).fill("0.02");
  await sellTicket.getByRole("button", { name: "Sell BTC" }).click();
  await seller.getByRole("tab", { name: "Open orders (1)" }).waitFor();
  await eventually("the seller's ask in the book", async () => (await bookSide(seller, "Asks")).some((level) => level.price === "60,000.00" && level.size === "0.02"));
  assert.deepEqual(await balance(seller, "BTC"), { available: "0.98", held: "0.02" });
  assert.deepEqual(await balance(seller, "USDT"), { available: "0", held: "0" });

  const buyer = await openTrader("Bea Buyer");
  await faucet(buyer, "USDT", "10000");
  await openTradeScreen(buyer);
  assert.deepEqual(await bookSide(buyer, "Asks"), [{ price: "60,000.00", size: "0.02" }]);
  assert.deepEqual(await balance(buyer, "BTC"), { available: "0", held: "0" });

  const buyTicket = buyer.getByRole("form", { name: "Order ticket" });
  await buyTicket.getByRole("radio", { name: "Market" }).check({ force: true });
  await buyTicket.getByLabel("Spend (USDT)", { exact: true }).fill("600");
  await buyTicket.getByRole("button", { name: "Buy BTC" }).click();

  // Half the ask is taken: both books show what is left, both traders are told of their fill.
  for (const [who, page] of [["seller", seller], ["buyer", buyer]]) {
    await eventually(`the ${who}'s book after the fill`, async () => {
      const asks = await bookSide(page, "Asks");
      return asks.length === 1 && asks[0].price === "60,000.00" && asks[0].size === "0.01";
    });
    await page.getByText("Order filled").first().waitFor();
  }
  const sellerUsdt = await eventually("the seller's USDT", async () => {
    const usdt = await balance(seller, "USDT");
    return usdt.available !== "0" ? usdt : undefined;
  });
  const buyerBtc = await eventually("the buyer's BTC", async () => {
    const btc = await balance(buyer, "BTC");
    return btc.available !== "0" ? btc : undefined;
  });
  const buyerUsdt = await eventually("the buyer's USDT", async () => {
    const usdt = await balance(buyer, "USDT");
    return usdt.available !== "10,000" && usdt.held === "0" ? usdt : undefined;
  });
  t.diagnostic(`seller USDT ${sellerUsdt.available}; buyer BTC ${buyerBtc.available}, USDT ${buyerUsdt.available}`);
  // 0.01 BTC at 60,000 is 600 USDT, less the seller's maker fee (0.08 %) and the buyer's taker fee (0.1 %).
  assert.equal(sellerUsdt.available, "599.52");
  assert.equal(buyerBtc.available, "0.00999");
  assert.equal(buyerUsdt.available, "9,400");
  assert.deepEqual(await balance(seller, "BTC"), { available: "0.98", held: "0.01" });
  await seller.getByRole("tab", { name: "Open orders (1)" }).waitFor();
  assert.match(await seller.getByRole("table", { name: "Orders" }).innerText(), /partially filled/);

  assert.equal(await fillsShown(seller), 1);
  assert.equal(await fillsShown(buyer), 1);
  for (const [who, page] of [["seller", seller], ["buyer", buyer]]) {
    assert.equal(await page.evaluate(() => window.tesseraSameDocument), true, `the ${who}'s page reloaded`);
    await page.screenshot({ path: join(RESULTS, `two-traders-${who}.png`), fullPage: true });
    assert.deepEqual(await seriousViolations(page, t), []);
  }
  assert.deepEqual(pageErrors, []);
});
