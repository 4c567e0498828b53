// The web app pins a newer React at the workspace root; tests, like Metro (metro.config.js), must use
// this app's own React whoever imports it.
const path = require("node:path");

const own = (name) => path.join(__dirname, "node_modules", name);

/** @type {import('jest').Config} */
module.exports = {
  preset: "jest-expo",
  roots: ["<rootDir>/src", "<rootDir>/app"],
  moduleNameMapper: {
    "^react$": own("react"),
    "^react/(.*)$": `${own("react")}/$1`,
    "^react-dom$": own("react-dom"),
    "^react-dom/(.*)$": `${own("react-dom")}/$1`,
  },
  // The first render of a suite loads React Native's modules lazily inside the test; on a loaded two-core
  // machine that alone outran jest's 5 s default (a clean-clone CI run failed that way).
  testTimeout: 30_000,
};
