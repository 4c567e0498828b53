import { existsSync } from "node:fs";

import { defineConfig } from "orval";

// One contract, two clients: the web app (cookies + CSRF) and the mobile app (bearer token) generate
// their TanStack Query hooks from the same spec, so both use the same operation names and query keys.
// `npm run api:check` regenerates both into a temporary folder and fails on any difference.
const spec = process.env.TESSERA_OPENAPI ?? "./server_fastapi/openapi.json";
const outRoot = process.env.TESSERA_API_OUT_ROOT ?? ".";

const shared = {
  mode: "tags-split",
  client: "react-query",
  httpClient: "fetch",
  clean: true,
  override: {
    query: { useSuspenseQuery: true, signal: true },
    // The fetcher returns the body and throws `ProblemError` for every non-2xx answer.
    fetch: { includeHttpResponseReturnType: false },
  },
} as const;

/** A client generated into `<app>/src/api/generated`, calling through `<app>/src/api/fetcher.ts`. */
function target(app: "frontend" | "mobile") {
  return {
    input: { target: spec },
    output: {
      ...shared,
      target: `${outRoot}/${app}/src/api/generated/endpoints.ts`,
      schemas: `${outRoot}/${app}/src/api/generated/model`,
      override: {
        ...shared.override,
        mutator: { path: `${outRoot}/${app}/src/api/fetcher.ts`, name: "apiFetch" },
      },
    },
  };
}

// An app takes part once its fetcher exists, so a drift check of one app's tree needs only that fetcher.
const apps = (["frontend", "mobile"] as const).filter((app) => existsSync(`${outRoot}/${app}/src/api/fetcher.ts`));

export default defineConfig(
  Object.fromEntries(apps.map((app) => [app === "frontend" ? "web" : app, target(app)])),
);
