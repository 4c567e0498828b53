#!/usr/bin/env node
// `expo export --platform web` into dist/, skipped when nothing it is built from changed since the last
// export (a hash of the sources, the configs, the lock file and the API URL is kept beside the build).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const app = join(dirname(fileURLToPath(import.meta.url)), "..");
const root = join(app, "..");
const dist = join(app, "dist");
const stamp = join(dist, ".source-hash");
const inputs = [
  join(app, "app"),
  join(app, "src"),
  join(app, "app.config.ts"),
  join(app, "babel.config.js"),
  join(app, "metro.config.js"),
  join(app, "package.json"),
  join(root, "package-lock.json"),
  join(root, "frontend/src/lib"),
  join(root, "frontend/src/api/problem.ts"),
];

function files(path) {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).sort().flatMap((name) => files(join(path, name)));
}

// The API URL is baked into the bundle, so it is part of what the build is made from.
const hash = createHash("sha256").update(process.env.EXPO_PUBLIC_API_URL ?? "");
for (const file of inputs.flatMap(files)) hash.update(file).update(readFileSync(file));
const digest = hash.digest("hex");

if (existsSync(join(dist, "index.html")) && existsSync(stamp) && readFileSync(stamp, "utf8") === digest) {
  console.log("export-web: dist/ is up to date");
} else {
  execFileSync("npx", ["expo", "export", "--platform", "web", "--output-dir", "dist"], {
    cwd: app,
    stdio: "inherit",
    env: { ...process.env, CI: "1", EXPO_NO_TELEMETRY: "1", EXPO_OFFLINE: "1" },
  });
  writeFileSync(stamp, digest);
}
