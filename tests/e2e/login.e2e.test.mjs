// Opens the built sign-in page served in front of the real API, checks it with axe, and saves a screenshot.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";

import { RESULTS, seriousViolations } from "./lib/trader.mjs";
import { useVenue } from "./lib/venue.mjs";

let browser;

const venue = useVenue(async () => {
  browser = await venue.launch();
});

async function openPage(path, colorScheme) {
  const page = await browser.context.newPage();
  await page.emulateMedia({ colorScheme });
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(`${venue.web.origin}${path}`);
  return { page, errors };
}

for (const colorScheme of ["light", "dark"]) {
  test(`a visitor at / lands on the sign-in page (${colorScheme} theme)`, async (t) => {
    const { page, errors } = await openPage("/", colorScheme);
    await page.waitForURL(/\/login$/);
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    assert.ok(await page.getByLabel("Email").isVisible());
    assert.ok(await page.getByLabel("Password").isVisible());

    assert.deepEqual(await seriousViolations(page, t), [], "axe found serious or critical violations");

    const screenshot = join(RESULTS, `login-${colorScheme}.png`);
    await page.screenshot({ path: screenshot, fullPage: true });
    t.diagnostic(`served by ${venue.web.servedBy}; screenshot ${screenshot}`);
    assert.deepEqual(errors, []);
    await page.close();
  });
}

for (const colorScheme of ["light", "dark"]) {
  test(`the sign-up page has no serious accessibility violations (${colorScheme} theme)`, async (t) => {
    const { page, errors } = await openPage("/signup", colorScheme);
    await page.getByRole("heading", { name: "Create your account" }).waitFor();
    assert.deepEqual(await seriousViolations(page, t), [], "axe found serious or critical violations");
    await page.screenshot({ path: join(RESULTS, `signup-${colorScheme}.png`), fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  });
}

test("wrong credentials show the API's problem detail", async (t) => {
  const { page } = await openPage("/login", "light");
  await page.getByLabel("Email").fill("nobody@example.com");
  await page.getByLabel("Password").fill("not the password at all");
  await page.getByRole("button", { name: "Sign in" }).click();
  const alert = page.getByRole("alert");
  await alert.waitFor();
  const text = await alert.innerText();
  t.diagnostic(`alert: ${text.replace(/\s+/g, " ")}`);
  assert.match(text, /Request id: /);
  await page.screenshot({ path: join(RESULTS, "login-error.png"), fullPage: true });
  await page.close();
});
