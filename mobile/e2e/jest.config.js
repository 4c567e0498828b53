// The generated client and fetcher against a real API that the run starts (tests/e2e/lib/backend.mjs).
const unit = require("../jest.config.js");

/** @type {import('jest').Config} */
module.exports = {
  preset: "jest-expo/node",
  rootDir: "..",
  roots: ["<rootDir>/e2e"],
  moduleNameMapper: unit.moduleNameMapper,
  globalSetup: "<rootDir>/e2e/jest.setup.mjs",
  globalTeardown: "<rootDir>/e2e/jest.teardown.mjs",
  testTimeout: 60_000,
};
