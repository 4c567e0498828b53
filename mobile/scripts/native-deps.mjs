#!/usr/bin/env node
// Can every package the app ships build for iOS and Android? `expo install --check` compares the direct
// dependencies with the SDK's versions; this walks the whole runtime tree and fails on any package with
// native code that the Expo SDK does not ship (so no prebuilt iOS/Android support is known), and on any
// Node-only native addon, which can never run in the app. It needs no network, unlike expo-doctor.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const NATIVE_MARKERS = ["ios", "android", "expo-module.config.json", "react-native.config.js"];
const NODE_ADDON_MARKERS = ["binding.gyp"];
// The SDK's own core (the `expo` package, its modules runtime and tooling) ships with it by definition.
const SDK_CORE = /^(expo|expo-modules-[a-z-]+|@expo\/.+)$/;

/** Whether `version` is inside `range`, for the forms bundledNativeModules.json uses: x.y.z, ~x.y.z, ^x.y.z. */
export function inSdkRange(version, range) {
  const parse = (text) => text.replace(/^[~^]/, "").split("-")[0].split(".").map(Number);
  const [major, minor, patch] = parse(version);
  const [wantMajor, wantMinor, wantPatch] = parse(range);
  if (range.startsWith("^")) return major === wantMajor && (minor > wantMinor || (minor === wantMinor && patch >= wantPatch));
  if (range.startsWith("~")) return major === wantMajor && minor === wantMinor && patch >= wantPatch;
  return version === range;
}

function packageDir(name, fromDir) {
  const require = createRequire(join(fromDir, "noop.js"));
  let dir;
  try {
    dir = dirname(require.resolve(`${name}/package.json`));
  } catch {
    // Packages whose `exports` hide package.json: find the folder by walking up the node_modules chain.
    for (let current = fromDir; ; current = dirname(current)) {
      const candidate = join(current, "node_modules", name);
      if (existsSync(join(candidate, "package.json"))) return candidate;
      if (dirname(current) === current) return undefined;
    }
  }
  return dir;
}

/** Problems found in the runtime dependency tree of the app at `appDir` (empty when all is well). */
export function nativeDependencyProblems(appDir) {
  const expoDir = packageDir("expo", appDir);
  const sdk = JSON.parse(readFileSync(join(expoDir, "bundledNativeModules.json"), "utf8"));
  sdk.expo = JSON.parse(readFileSync(join(expoDir, "package.json"), "utf8")).version;
  const problems = [];
  const seen = new Set();
  const visit = (dir, via) => {
    if (seen.has(dir)) return;
    seen.add(dir);
    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    const files = new Set(readdirSync(dir));
    const isApp = dir === appDir;
    if (!isApp && (NODE_ADDON_MARKERS.some((marker) => files.has(marker)) || manifest.gypfile === true)) {
      problems.push(`${manifest.name}@${manifest.version} (via ${via}) is a Node.js native addon; it cannot run on iOS or Android`);
    } else if (!isApp && NATIVE_MARKERS.some((marker) => files.has(marker)) && !SDK_CORE.test(manifest.name)) {
      const range = sdk[manifest.name];
      if (range === undefined) problems.push(`${manifest.name}@${manifest.version} (via ${via}) has native code the Expo SDK does not ship`);
      else if (!inSdkRange(manifest.version, range)) problems.push(`${manifest.name}@${manifest.version} (via ${via}) is outside the SDK's ${range}`);
    }
    const optionalPeers = manifest.peerDependenciesMeta ?? {};
    const children = { ...manifest.dependencies, ...(isApp ? {} : manifest.peerDependencies) };
    for (const name of Object.keys(children)) {
      const child = packageDir(name, dir);
      if (child === undefined) {
        if (!optionalPeers[name]?.optional && name in (manifest.dependencies ?? {})) problems.push(`${name} (needed by ${manifest.name}) is not installed`);
        continue;
      }
      visit(child, isApp ? name : `${via} > ${name}`);
    }
  };
  visit(appDir, "the app");
  return problems;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const appDir = join(dirname(fileURLToPath(import.meta.url)), "..");
  const problems = nativeDependencyProblems(appDir);
  if (problems.length > 0) {
    console.error("native-deps: dependencies that cannot build for iOS and Android:");
    for (const problem of problems) console.error(`  ${problem}`);
    process.exit(1);
  }
  console.log("native-deps: every runtime dependency is an Expo SDK module or plain JavaScript");
}
