// Production build size: the sign-in page's initial JavaScript must stay at or under 250 KB gzipped.
// Needs `npm run build -w frontend` first.
import assert from "node:assert/strict";
import { test } from "node:test";

import { gzipSize, initialJs, readManifest } from "./lib/bundle.mjs";

const BUDGET_BYTES = 250 * 1000;

test("the sign-in page's initial JavaScript is at most 250 KB gzipped", (t) => {
  const manifest = readManifest();
  const files = initialJs(manifest, "src/routes/login.tsx");
  const sizes = files.map((file) => ({ file, gzip: gzipSize(file) })).sort((a, b) => b.gzip - a.gzip);
  const total = sizes.reduce((sum, { gzip }) => sum + gzip, 0);
  for (const { file, gzip } of sizes) t.diagnostic(`${(gzip / 1000).toFixed(1).padStart(7)} KB  ${file}`);
  t.diagnostic(`sign-in page initial JS: ${(total / 1000).toFixed(1)} KB gzipped in ${files.length} files (budget ${BUDGET_BYTES / 1000} KB)`);
  assert.ok(total <= BUDGET_BYTES, `sign-in page initial JS is ${total} bytes gzipped, over the ${BUDGET_BYTES}-byte budget`);
});
