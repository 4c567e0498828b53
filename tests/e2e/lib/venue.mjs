// What every browser test file starts: the real API, the built web app in front of it, and Chromium
// browsers, all stopped when the file's tests are done.
import { after, before } from "node:test";

import { startBackend } from "./backend.mjs";
import { launchChromium } from "./chromium.mjs";
import { serveWebApp } from "./webapp.mjs";

/**
 * Registers the file's `before` and `after` hooks and returns the venue they fill in: `web` (`origin`,
 * `servedBy`), `backend`, `pageErrors` (uncaught errors of every page opened through it), `launch(options)`
 * for a browser of one's own and `openPage(who, options)` for a page in a browser of its own (`options` are
 * `launchChromium`'s). `setUp(venue)`, when given, runs in the same `before` once everything is up: node's
 * test runner does not promise to finish one `before` hook before it starts the next.
 */
export function useVenue(setUp) {
  const browsers = [];
  const venue = {
    backend: undefined,
    web: undefined,
    pageErrors: [],
    async launch(options) {
      const browser = await launchChromium(options);
      browsers.push(browser);
      return browser;
    },
    async openPage(who, options) {
      const browser = await venue.launch(options);
      const page = await browser.context.newPage();
      page.on("pageerror", (error) => venue.pageErrors.push(`${who}: ${error.message}`));
      return page;
    },
  };
  before(async () => {
    venue.backend = await startBackend();
    venue.web = await serveWebApp(venue.backend.origin);
    await setUp?.(venue);
  });
  after(async () => {
    for (const browser of browsers) await browser.close();
    await venue.web?.close();
    await venue.backend?.stop();
  });
  return venue;
}
