// Debian's Chromium driven by playwright-core: no browser download, and no background traffic to Google's
// hosts (this machine's network refuses it).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { chromium } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/**
 * An address from 198.18.0.0/15 (set aside for network tests) standing for one browser's client. The API
 * the tests start trusts the loopback proxy's `X-Forwarded-For`, so each browser is its own client to the
 * per-IP rate limits, whose state lives in the shared Redis and would otherwise carry over between runs.
 */
export function testClientIp() {
  const byte = () => Math.floor(Math.random() * 256);
  return `198.${18 + Math.floor(Math.random() * 2)}.${byte()}.${1 + Math.floor(Math.random() * 254)}`;
}

/**
 * A fresh browser with its own empty profile and client address (`clientIp`, or a random one); `close()`
 * removes the profile too.
 */
export async function launchChromium({ clientIp = testClientIp() } = {}) {
  const profile = mkdtempSync(join(tmpdir(), "tessera-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
    extraHTTPHeaders: { "X-Forwarded-For": clientIp },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
