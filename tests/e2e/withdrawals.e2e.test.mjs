// Withdrawals and their review, in two browsers against the real API (issue 8): the form shows the API's
// field errors beside the fields they point at; a valid request waits for review; a trader cannot open
// the compliance page, and a compliance officer sees the withdrawal in the queue and rejects it, which the
// trader's history then shows without a reload; two traders sharing an address trade with each other, and
// the officer reads the sentinel's wash-trade alert, its evidence, acknowledges and resolves it.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";

import { testClientIp } from "./lib/chromium.mjs";
import {
  api,
  enrolTotp,
  eventually,
  faucet,
  fieldState,
  problemDetailAt,
  RESULTS,
  seriousViolations,
  signIn,
  signUp,
  totpCode,
} from "./lib/trader.mjs";
import { useVenue } from "./lib/venue.mjs";

// The compliance officer among the dev backend's demo accounts (server_fastapi/auth/demo.py).
const OFFICER = { email: "cleo@demo.tessera.test", password: "Tessera-demo-pass-3" };
const DESTINATION = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
// The same address with two letters' case swapped: its EIP-55 checksum no longer matches.
const BAD_CHECKSUM = "0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BEAed";
const TRADER_KYC = {
  natural_person: {
    name: { nameIdentifier: [{ primaryIdentifier: "Trader", secondaryIdentifier: "Wendy", naturalPersonNameIdentifierType: "LEGL" }] },
    geographicAddress: [{ addressType: "HOME", streetName: "Dorset Street", buildingNumber: "12", townName: "Marylebone", country: "GB" }],
    countryOfResidence: "GB",
  },
};

let trader;
let officer;
let totpSecret;

const venue = useVenue(async () => {
  trader = await venue.openPage("trader");
  await signUp(trader, venue.web.origin, "Wendy Withdrawer");
  await faucet(trader, "ETH", "1");
  const kyc = await api(trader, "PUT", "/api/v1/kyc", TRADER_KYC);
  assert.equal(kyc.status, 200, JSON.stringify(kyc.body));
  // Withdrawals need 2FA; turning it on goes through the settings page like a trader would.
  totpSecret = await enrolTotp(trader, venue.web.origin);
});
const { pageErrors } = venue;

/** Submits the form and returns the API's answer to it. */
async function submit(page) {
  const [response] = await Promise.all([
    page.waitForResponse((response) => response.url().endsWith("/api/v1/withdrawals") && response.request().method() === "POST"),
    page.getByRole("button", { name: "Request withdrawal" }).click(),
  ]);
  return { status: response.status(), body: await response.json() };
}

test("the withdrawal form shows the API's field errors beside the fields", async (t) => {
  await trader.goto(`${venue.web.origin}/withdrawals`);
  await trader.getByRole("heading", { name: "Withdrawals", level: 1 }).waitFor();
  await trader.getByLabel("Amount", { exact: true }).fill("0.1");
  await trader.getByLabel("Destination address", { exact: true }).fill(BAD_CHECKSUM);
  await trader.getByLabel("First names", { exact: true }).fill("Robert");

  const badAddress = await submit(trader);
  assert.equal(badAddress.status, 422);
  assert.deepEqual(await fieldState(trader, "Destination address"), { invalid: true, message: problemDetailAt(badAddress.body, "/destination") });

  await trader.getByLabel("Destination address", { exact: true }).fill(DESTINATION);
  const noName = await submit(trader);
  assert.equal(noName.status, 422);
  const lastNamePointer = "/beneficiary/naturalPerson/name/nameIdentifier/0/primaryIdentifier";
  assert.deepEqual(await fieldState(trader, "Last name"), { invalid: true, message: problemDetailAt(noName.body, lastNamePointer) });
  assert.equal((await fieldState(trader, "Destination address")).invalid, false);
  t.diagnostic(`destination: ${problemDetailAt(badAddress.body, "/destination")}; last name: ${problemDetailAt(noName.body, lastNamePointer)}`);
  await trader.screenshot({ path: join(RESULTS, "withdrawal-errors.png"), fullPage: true });
  assert.deepEqual(await seriousViolations(trader, t), []);

  await trader.getByLabel("Last name", { exact: true }).fill("Barnes");
  // The next time step's code: the current one was spent turning 2FA on, and the API allows one step of drift.
  await trader.getByLabel("Two-factor code", { exact: true }).fill(totpCode(totpSecret, 1));
  const accepted = await submit(trader);
  assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
  assert.equal(accepted.body.status, "pending_review");
  const history = trader.getByRole("table", { name: "Withdrawal history" });
  await history.getByText("pending review").waitFor();
  assert.match(await history.innerText(), new RegExp(DESTINATION));
  await trader.screenshot({ path: join(RESULTS, "withdrawals-requested.png"), fullPage: true });
  assert.deepEqual(await seriousViolations(trader, t), []);
});

test("a trader cannot open the compliance page", async () => {
  await trader.goto(`${venue.web.origin}/compliance`);
  await trader.waitForURL(/\/markets$/);
  assert.equal(await trader.getByRole("link", { name: "Compliance" }).count(), 0);
  assert.equal((await api(trader, "GET", "/api/v1/compliance/withdrawals?status=pending_review")).status, 403);
  await trader.screenshot({ path: join(RESULTS, "compliance-refused-trader.png"), fullPage: true });
});

test("a compliance officer sees the withdrawal in the review queue and rejects it", async (t) => {
  await trader.goto(`${venue.web.origin}/withdrawals`);
  const history = trader.getByRole("table", { name: "Withdrawal history" });
  await history.getByText("pending review").waitFor();

  officer = await venue.openPage("officer");
  await signIn(officer, venue.web.origin, OFFICER.email, OFFICER.password);
  await officer.getByRole("link", { name: "Compliance" }).click();
  await officer.getByRole("heading", { name: "Compliance", level: 1 }).waitFor();
  const queue = officer.getByRole("table", { name: "Withdrawals waiting for review" });
  const row = queue.getByRole("row").filter({ hasText: DESTINATION });
  await row.waitFor();
  const text = await row.innerText();
  t.diagnostic(`queue row: ${text.replace(/\s+/g, " ")}`);
  assert.match(text, /0\.1 ETH/);
  assert.match(text, /To: Barnes, Robert/);
  assert.match(text, /From: Trader, Wendy/);
  assert.match(text, /new destination/);
  await officer.screenshot({ path: join(RESULTS, "compliance-queue.png"), fullPage: true });
  assert.deepEqual(await seriousViolations(officer, t), []);

  await row.getByRole("textbox").fill("Beneficiary could not be verified");
  await row.getByRole("button", { name: "Reject" }).click();
  await officer.getByText("No withdrawals are waiting for review.").waitFor();

  // The trader's page polls unfinished withdrawals; no reload needed.
  await history.getByText("rejected").waitFor({ timeout: 15_000 });
  // The hold is released: all of the faucet's 1 ETH is available again.
  await trader.getByText("Available 1 ETH;").waitFor({ timeout: 15_000 });
  await trader.screenshot({ path: join(RESULTS, "withdrawals-rejected.png"), fullPage: true });
  assert.deepEqual(pageErrors, []);
});

test("the officer reads the rejected withdrawal's trail in the audit log and verifies the chain", async (t) => {
  const withdrawals = await api(trader, "GET", "/api/v1/withdrawals");
  const rejected = withdrawals.body.items.find((item) => item.status === "rejected");
  assert.ok(rejected, JSON.stringify(withdrawals.body));

  await officer.goto(`${venue.web.origin}/compliance`);
  const log = officer.getByRole("table", { name: "Audit log entries" });
  await log.getByRole("row").nth(1).waitFor();
  await officer.getByLabel("Subject", { exact: true }).fill(`withdrawal:${rejected.id}`);
  await officer.getByRole("button", { name: "Filter" }).click();
  await log.getByText("wallets.withdrawal.rejected").waitFor();
  const actions = (await log.getByRole("row").allInnerTexts()).slice(1).map((row) => row.match(/wallets\.withdrawal\.[a-z_]+/)?.[0]);
  t.diagnostic(`trail: ${actions.join(", ")}`);
  // Newest first: the decision, the review it waited for, the request.
  assert.deepEqual(actions, ["wallets.withdrawal.rejected", "wallets.withdrawal.pending_review", "wallets.withdrawal.requested"]);
  // The entry keeps the comment's length, not its words (free text may name people); the officer's id acts.
  const decision = await log.getByRole("row").nth(1).innerText();
  assert.match(decision, /"comment_length":33/);
  assert.match(decision, /"previous_status":"pending_review"/);

  await officer.getByRole("button", { name: "Verify chain" }).click();
  const verdict = officer.getByText(/^Chain intact: \d+ entries$/);
  await verdict.waitFor();
  t.diagnostic(await verdict.innerText());
  await officer.screenshot({ path: join(RESULTS, "compliance-audit.png"), fullPage: true });
  assert.deepEqual(await seriousViolations(officer, t), []);
  assert.deepEqual(pageErrors, []);
});

test("the officer reviews a wash-trade alert: evidence, acknowledgement, resolution", async (t) => {
  // Two accounts behind one address trading with each other: the sentinel links them as one person.
  const sharedIp = testClientIp();
  const [seller, buyer] = [await venue.openPage("wash seller", { clientIp: sharedIp }), await venue.openPage("wash buyer", { clientIp: sharedIp })];
  await signUp(seller, venue.web.origin, "Wash Seller");
  await signUp(buyer, venue.web.origin, "Wash Buyer");
  await faucet(seller, "BTC", "1");
  await faucet(buyer, "USDT", "1000");
  const sell = await api(seller, "POST", "/api/v1/orders", { symbol: "BTC-USDT", side: "sell", type: "limit", price: "60000", quantity: "0.001", time_in_force: "GTC" });
  assert.equal(sell.status, 201, JSON.stringify(sell.body));
  const buy = await api(buyer, "POST", "/api/v1/orders", { symbol: "BTC-USDT", side: "buy", type: "market", quote_budget: "60", time_in_force: "IOC" });
  assert.equal(buy.status, 201, JSON.stringify(buy.body));
  await eventually("the sentinel's alert", async () => (await api(officer, "GET", "/api/v1/compliance/alerts?kind=wash_trade")).body?.items?.length > 0, 30_000);

  await officer.goto(`${venue.web.origin}/compliance`);
  const alerts = officer.getByRole("table", { name: "Alerts" });
  const row = alerts.getByRole("row").filter({ hasText: "wash trade" });
  await row.waitFor();
  assert.match(await row.innerText(), /BTC-USDT/);
  await row.getByRole("button", { name: "Evidence" }).click();
  const evidence = officer.getByRole("definition").first();
  await evidence.waitFor();
  t.diagnostic(`evidence: ${(await alerts.innerText()).replace(/\s+/g, " ").slice(0, 400)}`);
  await officer.screenshot({ path: join(RESULTS, "compliance-alert.png"), fullPage: true });
  assert.deepEqual(await seriousViolations(officer, t), []);

  await row.getByRole("button", { name: "Acknowledge" }).click();
  // Acknowledged alerts leave the default (open) list; the status filter brings them back.
  await officer.getByText("No alerts match.").waitFor();
  await officer.getByLabel("Status", { exact: true }).selectOption("acknowledged");
  await officer.waitForURL(/status=acknowledged/);
  const acknowledged = officer.getByRole("table", { name: "Alerts" }).getByRole("row").filter({ hasText: "wash trade" });
  await acknowledged.getByRole("textbox").fill("Same household, warned both accounts");
  await acknowledged.getByRole("button", { name: "Resolve" }).click();
  await officer.getByText("No alerts match.").waitFor();
  await officer.getByLabel("Status", { exact: true }).selectOption("resolved");
  await officer.getByRole("table", { name: "Alerts" }).getByText("Same household, warned both accounts").waitFor();
  assert.deepEqual(pageErrors, []);
});
