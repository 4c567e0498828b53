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
};
