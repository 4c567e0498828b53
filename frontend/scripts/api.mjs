#!/usr/bin/env node
// Generates the web client from server_fastapi/openapi.json (`npm run api:generate -w frontend`), or, with
// --check, generates it into a temporary folder and fails when it differs from the committed one.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const generatedDir = "frontend/src/api/generated";
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
  console.log(`api: generated ${generatedDir} from server_fastapi/openapi.json`);
  process.exit(0);
}

const scratch = mkdtempSync(join(tmpdir(), "tessera-api-"));
try {
  // Orval imports the fetcher by a relative path, so the scratch tree gets it at the same place.
  mkdirSync(join(scratch, "frontend/src/api"), { recursive: true });
  cpSync(join(root, "frontend/src/api/fetcher.ts"), join(scratch, "frontend/src/api/fetcher.ts"));
  orval(scratch);
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
    console.error(`api: ${generatedDir} has drifted from server_fastapi/openapi.json:`);
    for (const line of drift) console.error(`  ${line}`);
    console.error("Run `npm run api:generate -w frontend` and commit the result.");
    process.exit(1);
  }
  console.log(`api: ${generatedDir} matches server_fastapi/openapi.json (${freshFiles.length} files)`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
