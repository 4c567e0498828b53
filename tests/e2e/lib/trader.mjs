// What the browser tests do as a trader: sign up through the app, call the API from inside the signed-in
// page (its session cookies, and the CSRF header the app's fetcher sends), wait for the page to catch up,
// and check a page with axe.
import { createHmac } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

import AxeBuilder from "@axe-core/playwright";

import { ROOT } from "./backend.mjs";

export const RESULTS = join(ROOT, "test-results");
mkdirSync(RESULTS, { recursive: true });

export const PASSWORD = "correct horse battery staple 42";

/** Signs a new trader up through the sign-up page; resolves with the email once the markets show. */
export async function signUp(page, origin, name) {
  const email = `${name.toLowerCase().replace(/\W+/g, "-")}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
  await page.goto(`${origin}/signup`);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(/\/markets$/);
  return email;
}

/** Signs in through the sign-in page (no second factor). */
export async function signIn(page, origin, email, password) {
  await page.goto(`${origin}/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/markets$/);
}

/** `{ status, body }` of an API call made by the page itself, as the app's fetcher makes it. */
export async function api(page, method, path, body) {
  return page.evaluate(
    async ({ method, path, body }) => {
      const csrf = document.cookie
        .split(";")
        .map((part) => part.trim().split("="))
        .find(([key]) => key === "tessera_csrf")?.[1];
      const headers = { "content-type": "application/json" };
      if (csrf !== undefined) headers["X-CSRF-Token"] = decodeURIComponent(csrf);
      const response = await fetch(path, { method, headers, credentials: "include", body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await response.text();
      return { status: response.status, body: text === "" ? null : JSON.parse(text) };
    },
    { method, path, body },
  );
}

/** Dev-mode test funds (`POST /api/v1/dev/faucet`, absent from the production contract). */
export async function faucet(page, asset, amount) {
  const answer = await api(page, "POST", "/api/v1/dev/faucet", { asset, amount });
  if (answer.status !== 200) throw new Error(`faucet refused ${amount} ${asset}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/** Polls `probe` until it returns something truthy; fails with `what` and the last value after `timeoutMs`. */
export async function eventually(what, probe, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await probe();
    if (last) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}; last saw ${JSON.stringify(last)}`);
}

/** The ids of axe's serious and critical violations on the page (every violation is reported). */
export async function seriousViolations(page, t) {
  const results = await new AxeBuilder({ page }).analyze();
  for (const violation of results.violations) t.diagnostic(`axe ${violation.impact}: ${violation.id} (${violation.nodes.length}) ${violation.nodes[0]?.target ?? ""}`);
  return results.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id);
}

/** Decimal strings compared by value ("3100.00" equals "3100"), without floats. */
export function sameDecimal(a, b) {
  const canonical = (text) => {
    const [whole, fraction = ""] = String(text).split(".");
    const trimmed = fraction.replace(/0+$/, "");
    return `${whole.replace(/^0+(?=\d)/, "")}${trimmed === "" ? "" : `.${trimmed}`}`;
  };
  return canonical(a) === canonical(b);
}

/** RFC 6238 code (SHA-1, 30 s, 6 digits) of a base32 `secret`, `stepsAhead` steps after now. */
export function totpCode(secret, stepsAhead = 0) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const char of secret.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(char).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((byte) => parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000) + stepsAhead));
  const digest = createHmac("sha1", key).update(counter).digest();
  const offset = digest[digest.length - 1] & 0x0f;
  return String((digest.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

/** Turns on two-factor authentication through the settings page; resolves with the secret. */
export async function enrolTotp(page, origin) {
  await page.goto(`${origin}/settings`);
  await page.getByRole("button", { name: "Set up two-factor authentication" }).click();
  const secret = (await page.getByText("Or type this key:").locator("code").innerText()).trim();
  await page.getByLabel("Code", { exact: true }).fill(totpCode(secret));
  await page.getByRole("button", { name: "Turn on" }).click();
  await page.getByText("Two-factor authentication is on.").waitFor();
  return secret;
}

/** `{ invalid, message }` of a form field: its aria-invalid and the text it is described by. */
export function fieldState(page, label) {
  return page.getByLabel(label, { exact: true }).evaluate((input) => ({
    invalid: input.getAttribute("aria-invalid") === "true",
    message: document.getElementById(input.getAttribute("aria-describedby") ?? "")?.textContent ?? "",
  }));
}

/** The detail of a problem's field error at `pointer` (RFC 6901); fails when there is none. */
export function problemDetailAt(problem, pointer) {
  const error = problem.errors?.find((candidate) => candidate.pointer === pointer);
  if (error === undefined) throw new Error(`no error at ${pointer} in ${JSON.stringify(problem)}`);
  return error.detail;
}
