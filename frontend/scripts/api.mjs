#!/usr/bin/env node
// Generates the web and mobile clients from server_fastapi/openapi.json (`npm run api:generate`), or, with
// --check, generates them into a temporary folder and fails when either differs from the committed one.
// An app takes part once its fetcher exists (see orval.config.ts).
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const apps = ["frontend", "mobile"].filter((app) => existsSync(join(root, app, "src/api/fetcher.ts")));
const generatedDirs = apps.map((app) => `${app}/src/api/generated`);
const check = process.argv.includes("--check");

function orval(outRoot) {
  execFileSync(process.execPath, [join(root, "node_modules/orval/dist/bin/orval.mjs"), "--config", "orval.config.ts"], {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, TESSERA_API_OUT_ROOT: outRoot },
  });
}

function listFiles(dir) {
  const files = [];
  const walk = (current) => {
    for (const name of readdirSync(current)) {
      const path = join(current, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.push(relative(dir, path));
    }
  };
  try {
    walk(dir);
  } catch (error) {
    if (error.code !== "ENOENT") throw error;
  }
  return files.sort();
}

if (!check) {
  orval(".");
  console.log(`api: generated ${generatedDirs.join(" and ")} from server_fastapi/openapi.json`);
  process.exit(0);
}

const scratch = mkdtempSync(join(tmpdir(), "tessera-api-"));
try {
  // Orval imports each fetcher by a relative path, so the scratch tree gets them at the same places.
  for (const app of apps) {
    mkdirSync(join(scratch, app, "src/api"), { recursive: true });
    cpSync(join(root, app, "src/api/fetcher.ts"), join(scratch, app, "src/api/fetcher.ts"));
  }
  orval(scratch);
  let drifted = false;
  for (const generatedDir of generatedDirs) {
    const fresh = join(scratch, generatedDir);
    const committed = join(root, generatedDir);
    const freshFiles = listFiles(fresh);
    const committedFiles = listFiles(committed);
    const drift = [];
    for (const file of new Set([...freshFiles, ...committedFiles])) {
      if (!freshFiles.includes(file)) drift.push(`only in the committed client: ${file}`);
      else if (!committedFiles.includes(file)) drift.push(`missing from the committed client: ${file}`);
      else if (!readFileSync(join(fresh, file)).equals(readFileSync(join(committed, file)))) drift.push(`differs: ${file}`);
    }
    if (drift.length > 0) {
      drifted = true;
      console.error(`api: ${generatedDir} has drifted from server_fastapi/openapi.json:`);
      for (const line of drift) console.error(`  ${line}`);
    } else {
      console.log(`api: ${generatedDir} matches server_fastapi/openapi.json (${freshFiles.length} files)`);
    }
  }
  if (drifted) {
    console.error("Run `npm run api:generate` and commit the result.");
    process.exit(1);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
