// A trader's KYC identity through the web app against the real API: a new trader is told on the withdrawals
// page that withdrawals need it and follows the link to settings' "Identity (KYC)" section; one invalid value
// comes back as the API's field error on that field; once fixed, the identity is saved, a reload shows it
// as stored, and the withdrawals page stops asking for it.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";

import { api, fieldState, problemDetailAt, RESULTS, seriousViolations, signUp } from "./lib/trader.mjs";
import { useVenue } from "./lib/venue.mjs";

const KYC_NOTICE = "Your identity (KYC) is needed before you can withdraw";
// What the trader types; "UK" is no ISO 3166-1 code (the United Kingdom's is GB), so the API refuses it.
const IDENTITY = {
  "Last name": "Lovelace",
  "First names (optional)": "Augusta Ada",
  "Country of residence (optional)": "UK",
  Street: "St James's Square",
  "Building number": "12",
  "Town or city": "London",
  "Postcode (optional)": "SW1Y 4JH",
  Country: "GB",
  "Document number": "533401372",
  "Country of issue (optional)": "GB",
  "Date of birth": "1815-12-10",
  "Place of birth": "London",
};

let page;

const venue = useVenue(async () => {
  page = await venue.openPage("trader");
  await signUp(page, venue.web.origin, "Ada Lovelace");
});
const { pageErrors } = venue;

/** Clicks "Save identity" and returns the API's answer to the PUT it sends. */
async function save() {
  const [response] = await Promise.all([
    page.waitForResponse((response) => response.url().endsWith("/api/v1/kyc") && response.request().method() === "PUT"),
    page.getByRole("button", { name: "Save identity" }).click(),
  ]);
  return { status: response.status(), body: await response.json() };
}

test("a trader without an identity is told so on the withdrawals page and led to the KYC section", async (t) => {
  const missing = await api(page, "GET", "/api/v1/kyc");
  assert.equal(missing.status, 404);
  assert.equal(missing.body.type, "urn:tessera:problem:kyc-missing");

  await page.goto(`${venue.web.origin}/withdrawals`);
  await page.getByRole("heading", { name: "Withdrawals", level: 1 }).waitFor();
  const notice = page.getByRole("note", { name: KYC_NOTICE });
  await notice.waitFor();
  await page.screenshot({ path: join(RESULTS, "withdrawals-kyc-needed.png"), fullPage: true });
  assert.deepEqual(await seriousViolations(page, t), []);

  await notice.getByRole("link", { name: "Settings › Identity (KYC)" }).click();
  await page.waitForURL(/\/settings#identity$/);
  await page.getByRole("form", { name: "Identity (KYC)" }).waitFor();
  await page.getByText("Not on file yet: withdrawals need it.").waitFor();
  assert.equal(await page.getByLabel("Last name", { exact: true }).inputValue(), "");
});

test("the KYC form shows the API's field error on its field, then saves the identity", async (t) => {
  for (const [label, value] of Object.entries(IDENTITY)) await page.getByLabel(label, { exact: true }).fill(value);
  await page.getByLabel("Document type", { exact: true }).selectOption({ label: "Passport number" });

  const refused = await save();
  assert.equal(refused.status, 422, JSON.stringify(refused.body));
  const residenceError = problemDetailAt(refused.body, "/natural_person/countryOfResidence");
  t.diagnostic(`country of residence: ${residenceError}`);
  assert.deepEqual(await fieldState(page, "Country of residence (optional)"), { invalid: true, message: residenceError });
  assert.equal(refused.body.errors.length, 1, JSON.stringify(refused.body));
  for (const label of Object.keys(IDENTITY).filter((label) => !label.startsWith("Country of residence"))) {
    assert.equal((await fieldState(page, label)).invalid, false, `${label} is marked invalid`);
  }
  await page.getByRole("alert").filter({ hasText: refused.body.detail }).waitFor();
  await page.screenshot({ path: join(RESULTS, "kyc-errors.png"), fullPage: true });
  assert.deepEqual(await seriousViolations(page, t), []);

  await page.getByLabel("Country of residence (optional)", { exact: true }).fill("GB");
  assert.equal((await fieldState(page, "Country of residence (optional)")).invalid, false);
  const saved = await save();
  assert.equal(saved.status, 200, JSON.stringify(saved.body));
  assert.equal(saved.body.natural_person.countryOfResidence, "GB");
  await page.getByText("Identity saved").waitFor();
  await page.screenshot({ path: join(RESULTS, "kyc-saved.png"), fullPage: true });

  await page.reload();
  await page.getByRole("form", { name: "Identity (KYC)" }).waitFor();
  await page.getByText(/^On file, last saved /).waitFor();
  for (const [label, value] of Object.entries({ ...IDENTITY, "Country of residence (optional)": "GB" })) {
    assert.equal(await page.getByLabel(label, { exact: true }).inputValue(), value, label);
  }
  assert.equal(await page.getByLabel("Document type", { exact: true }).inputValue(), "CCPT");
  assert.equal(await page.getByLabel("Address type", { exact: true }).inputValue(), "HOME");
  const stored = await api(page, "GET", "/api/v1/kyc");
  assert.equal(stored.status, 200);
  assert.deepEqual(stored.body.natural_person.dateAndPlaceOfBirth, { dateOfBirth: "1815-12-10", placeOfBirth: "London" });
  await page.getByRole("heading", { name: "Identity (KYC)" }).scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(RESULTS, "settings-kyc.png"), fullPage: true });
  assert.deepEqual(await seriousViolations(page, t), []);
});

test("the withdrawals page no longer asks for the identity", async () => {
  const [kyc] = await Promise.all([
    page.waitForResponse((response) => response.url().endsWith("/api/v1/kyc") && response.request().method() === "GET"),
    page.goto(`${venue.web.origin}/withdrawals`),
  ]);
  assert.equal(kyc.status(), 200);
  await page.getByRole("form", { name: "New withdrawal" }).waitFor();
  assert.equal(await page.getByRole("note", { name: KYC_NOTICE }).count(), 0);
  assert.equal(await page.getByText(KYC_NOTICE).count(), 0);
  assert.deepEqual(pageErrors, []);
});
