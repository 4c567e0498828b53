// The real API for the mobile tests, started by the shared end-to-end harness (tests/e2e/lib/backend.mjs).
import { spawnSync } from "node:child_process";

import { startBackend } from "../../tests/e2e/lib/backend.mjs";

// Every run registers and signs in fresh accounts from 127.0.0.1; on a shared Redis database the
// per-address sign-up limit (5 at once, then 10 an hour) would refuse repeated runs. This Redis database
// is the mobile tests' own, emptied first, so each run starts with fresh limits and sees no other API's bus.
export const MOBILE_TEST_REDIS_URL = process.env.TESSERA_MOBILE_TEST_REDIS_URL ?? "redis://127.0.0.1:56379/13";

export function startMobileBackend() {
  const flushed = spawnSync("redis-cli", ["-u", MOBILE_TEST_REDIS_URL, "FLUSHDB"], { encoding: "utf8" });
  if (flushed.status !== 0 || !flushed.stdout.includes("OK")) throw new Error(`could not empty ${MOBILE_TEST_REDIS_URL}: ${flushed.stderr}`);
  return startBackend({ env: { REDIS_URL: MOBILE_TEST_REDIS_URL } });
}
