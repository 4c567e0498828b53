// Metro in the npm workspace. The web app pins a newer React than this Expo SDK ships with, so the root
// node_modules holds that one; React, React DOM and the scheduler must come from this app's own copies,
// whoever imports them (hoisted packages such as react-native included), or two Reacts meet at run time.
const path = require("node:path");
const { getDefaultConfig } = require("expo/metro-config");

const config = getDefaultConfig(__dirname);
const PINNED = ["react", "react-dom", "scheduler"];
const pinnedOrigin = path.join(__dirname, "package.json");

config.resolver.resolveRequest = (context, moduleName, platform) => {
  const pinned = PINNED.some((name) => moduleName === name || moduleName.startsWith(`${name}/`));
  const next = pinned ? { ...context, originModulePath: pinnedOrigin } : context;
  return context.resolveRequest(next, moduleName, platform);
};

module.exports = config;
