import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { inSdkRange, nativeDependencyProblems } from "./native-deps.mjs";

function pkg(dir, manifest, extra = []) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify(manifest));
  for (const name of extra) {
    if (name.includes(".")) writeFileSync(join(dir, name), "");
    else mkdirSync(join(dir, name));
  }
}

test("native packages outside the SDK, SDK modules at other versions and Node addons are reported", () => {
  const app = mkdtempSync(join(tmpdir(), "tessera-native-deps-"));
  try {
    const modules = join(app, "node_modules");
    pkg(app, { name: "app", dependencies: { expo: "1", "sdk-native": "1", "stale-native": "1", "rogue-native": "1", addon: "1", "pure-js": "1" } });
    pkg(join(modules, "expo"), { name: "expo", version: "57.0.0" });
    writeFileSync(join(modules, "expo", "bundledNativeModules.json"), JSON.stringify({ "sdk-native": "~1.2.0", "stale-native": "2.0.0" }));
    pkg(join(modules, "sdk-native"), { name: "sdk-native", version: "1.2.5" }, ["ios", "android"]);
    pkg(join(modules, "stale-native"), { name: "stale-native", version: "2.1.0" }, ["android"]);
    pkg(join(modules, "rogue-native"), { name: "rogue-native", version: "0.1.0", dependencies: { "deep-native": "1" } });
    pkg(join(modules, "deep-native"), { name: "deep-native", version: "3.0.0" }, ["ios"]);
    pkg(join(modules, "addon"), { name: "addon", version: "1.0.0" }, ["binding.gyp"]);
    pkg(join(modules, "pure-js"), { name: "pure-js", version: "1.0.0" }, ["index.js"]);

    assert.deepEqual(nativeDependencyProblems(app), [
      "stale-native@2.1.0 (via stale-native) is outside the SDK's 2.0.0",
      "deep-native@3.0.0 (via rogue-native > deep-native) has native code the Expo SDK does not ship",
      "addon@1.0.0 (via addon) is a Node.js native addon; it cannot run on iOS or Android",
    ]);
  } finally {
    rmSync(app, { recursive: true, force: true });
  }
});

test("SDK ranges: exact, tilde and caret", () => {
  assert.equal(inSdkRange("4.5.1", "4.5.1"), true);
  assert.equal(inSdkRange("4.7.1", "4.5.1"), false);
  assert.equal(inSdkRange("2.32.4", "~2.32.0"), true);
  assert.equal(inSdkRange("2.33.0", "~2.32.0"), false);
  assert.equal(inSdkRange("15.1.0", "^15.0.2"), true);
  assert.equal(inSdkRange("16.0.0", "^15.0.2"), false);
});
