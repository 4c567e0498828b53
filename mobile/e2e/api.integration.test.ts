/**
 * The mobile app's generated client and bearer fetcher against the real API: register and sign in (with
 * and without the TOTP step), read balances, place and cancel an order, refresh an expired access token
 * once, and see the API's problems as typed errors.
 */
import { createHmac } from "node:crypto";

import { authEnrollTotp, authLogin, authMe, authRegister, authVerifyTotp } from "../src/api/generated/auth/auth";
import { ledgerListBalances } from "../src/api/generated/ledger/ledger";
import { marketsGetMarket } from "../src/api/generated/markets/markets";
import { tradingCancelOrder, tradingGetOrder, tradingListOrders, tradingPlaceOrder } from "../src/api/generated/trading/trading";
import { apiFetch } from "../src/api/fetcher";
import { isProblemError, ProblemError } from "../src/api/problem";
import { currentTokens, writeTokens } from "../src/api/tokenStore";

const PASSWORD = "correct horse battery staple 42";

async function signUpAndIn(name: string): Promise<string> {
  const email = `${name}-${Date.now()}@mobile.tessera.test`;
  await authRegister({ email, password: PASSWORD, display_name: name });
  const pair = await authLogin({ email, password: PASSWORD });
  await writeTokens({ accessToken: pair.access_token, refreshToken: pair.refresh_token });
  return email;
}

async function rejection(promise: Promise<unknown>): Promise<ProblemError> {
  try {
    await promise;
  } catch (error) {
    if (isProblemError(error)) return error;
    throw error;
  }
  throw new Error("expected the API to refuse");
}

/** RFC 6238 code for a base32 secret, as an authenticator app computes it. */
function totpCode(secret: string, at = Date.now()): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const char of secret.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(char).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g)?.map((byte) => parseInt(byte, 2)) ?? []);
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30_000)));
  const digest = createHmac("sha1", key).update(counter).digest();
  const offset = (digest[digest.length - 1] ?? 0) & 0x0f;
  return String((digest.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

afterEach(async () => {
  await writeTokens(null);
});

test("sign in, read balances, place and cancel an order", async () => {
  await signUpAndIn("mobile-trader");
  expect((await authMe()).auth_method).toBe("bearer");
  expect(await ledgerListBalances()).toEqual([]);

  // The dev faucet is outside the public contract; the fetcher still carries the bearer token there.
  await apiFetch("/api/v1/dev/faucet", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ asset: "USDT", amount: "1000" }),
  });
  const funded = await ledgerListBalances();
  expect(funded).toEqual([{ asset: "USDT", available: "1000", held: "0" }]);

  const market = await marketsGetMarket("BTC-USDT");
  const order = await tradingPlaceOrder({
    symbol: market.symbol,
    side: "buy",
    type: "limit",
    price: "100",
    quantity: "0.1",
    time_in_force: "GTC",
    post_only: true,
  });
  expect(order.status).toBe("open");
  // 0.1 BTC at 100 USDT: 10 USDT reserved while the order rests.
  expect(await ledgerListBalances()).toContainEqual({ asset: "USDT", available: "990", held: "10" });
  expect((await tradingListOrders({ status: ["open"] })).items.map((item) => item.id)).toEqual([order.id]);

  const canceled = await tradingCancelOrder(order.id);
  expect(canceled.status).toBe("canceled");
  expect((await tradingGetOrder(order.id)).status).toBe("canceled");
  expect(await ledgerListBalances()).toContainEqual({ asset: "USDT", available: "1000", held: "0" });
});

test("an order off the tick grid comes back as a typed problem with a field pointer", async () => {
  await signUpAndIn("mobile-grid");
  const problem = await rejection(
    tradingPlaceOrder({ symbol: "BTC-USDT", side: "buy", type: "limit", price: "100.005", quantity: "0.1", time_in_force: "GTC" }),
  );
  expect(problem.status).toBe(422);
  expect(problem.problem.type).toMatch(/^urn:tessera:problem:/);
  expect(problem.problem.errors?.map((error) => error.pointer)).toContain("/price");
});

test("a rejected access token is refreshed once and the request repeated", async () => {
  await signUpAndIn("mobile-refresh");
  const before = currentTokens();
  if (!before) throw new Error("not signed in");
  await writeTokens({ accessToken: "expired.or.revoked", refreshToken: before.refreshToken });
  expect(await ledgerListBalances()).toEqual([]);
  const after = currentTokens();
  expect(after?.accessToken).not.toBe("expired.or.revoked");
  expect(after?.refreshToken).not.toBe(before.refreshToken);

  // Each refresh token works once: with a spent one the session ends and the problem reaches the caller.
  await writeTokens({ accessToken: "expired.or.revoked", refreshToken: before.refreshToken });
  expect((await rejection(ledgerListBalances())).status).toBe(401);
  expect(currentTokens()).toBeNull();
});

test("an account with two-factor authentication signs in with the TOTP step", async () => {
  const email = await signUpAndIn("mobile-totp");
  const { secret } = await authEnrollTotp();
  // Each step's code works once: enrol with the previous step's (still inside the server's window) so the
  // current step's is left for signing in, without waiting for the clock. Not too close to a boundary.
  if (Date.now() % 30_000 > 27_000) await new Promise((resolve) => setTimeout(resolve, 3_500));
  await authVerifyTotp({ code: totpCode(secret, Date.now() - 30_000) });
  await writeTokens(null);

  const missing = await rejection(authLogin({ email, password: PASSWORD }));
  expect([missing.status, missing.slug]).toEqual([401, "totp-required"]);
  const wrong = await rejection(authLogin({ email, password: PASSWORD, totp: totpCode(secret, Date.now() + 10 * 30_000) }));
  expect(wrong.slug).toBe("totp-invalid");

  const pair = await authLogin({ email, password: PASSWORD, totp: totpCode(secret) });
  await writeTokens({ accessToken: pair.access_token, refreshToken: pair.refresh_token });
  expect((await authMe()).email).toBe(email);
});
