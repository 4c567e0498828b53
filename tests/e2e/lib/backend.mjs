// Starts the real API (Granian, one worker) on a free port for a test, and stops it afterwards.
// PostgreSQL and Redis must be running (`infra/local.sh start`).
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(url, deadlineMs, child) {
  const deadline = Date.now() + deadlineMs;
  let lastError;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the API exited with code ${child.exitCode} before answering`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
      lastError = new Error(`${url} answered ${response.status}`);
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the API did not come up at ${url}: ${lastError}`);
}

const ADMIN_URL = process.env.TESSERA_E2E_ADMIN_URL ?? "postgresql://tessera:tessera@127.0.0.1:55432/postgres";

function psql(sql) {
  const result = spawnSync("psql", [ADMIN_URL, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`psql failed: ${result.stderr}`);
}

/**
 * `{ origin, stop() }`: the API on its own freshly migrated database (dropped by `stop`), so a test
 * never sees, nor disturbs, anyone's local data. It runs in dev mode (the faucet and the demo accounts of
 * `server_fastapi/auth/demo.py` exist) and believes the loopback's `X-Forwarded-For` (see chromium.mjs).
 */
export async function startBackend({ env = {} } = {}) {
  const database = `tessera_e2e_${process.pid}_${Date.now().toString(36)}`;
  psql(`CREATE DATABASE "${database}"`);
  const databaseUrl = ADMIN_URL.replace(/\/[^/]*$/, `/${database}`);
  const dropDatabase = () => psql(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  const migrated = spawnSync("uv", ["run", "python", "-m", "server_fastapi", "migrate"], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl },
    encoding: "utf8",
  });
  if (migrated.status !== 0) {
    dropDatabase();
    throw new Error(`migrations failed:\n${migrated.stdout}${migrated.stderr}`);
  }
  const port = await freePort();
  const output = [];
  const child = spawn("uv", ["run", "python", "-m", "server_fastapi", "serve"], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, TESSERA_ENV: "dev", TESSERA_WORKERS: "1", TESSERA_HOST: "127.0.0.1", TESSERA_PORT: String(port), TRUSTED_PROXIES: "127.0.0.1/32", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  child.stdout.on("data", (chunk) => output.push(chunk));
  child.stderr.on("data", (chunk) => output.push(chunk));
  const origin = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      process.kill(-child.pid, "SIGTERM");
      const timer = setTimeout(() => child.exitCode === null && process.kill(-child.pid, "SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    dropDatabase();
  };
  try {
    await waitFor(`${origin}/healthz`, 60_000, child);
  } catch (error) {
    await stop();
    process.stderr.write(Buffer.concat(output));
    throw error;
  }
  return { origin, stop, output: () => Buffer.concat(output).toString() };
}
