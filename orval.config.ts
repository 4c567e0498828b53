import { defineConfig } from "orval";

// One contract, two clients: the web app (cookies + CSRF) and the mobile app (bearer token) generate
// their TanStack Query hooks from the same spec, so both use the same operation names and query keys.
// `npm run api:check -w frontend` regenerates into a temporary folder and fails on any difference.
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

export default defineConfig({
  web: {
    input: { target: spec },
    output: {
      ...shared,
      target: `${outRoot}/frontend/src/api/generated/endpoints.ts`,
      schemas: `${outRoot}/frontend/src/api/generated/model`,
      override: {
        ...shared.override,
        mutator: { path: `${outRoot}/frontend/src/api/fetcher.ts`, name: "apiFetch" },
      },
    },
  },
  // The mobile engineer adds `mobile/src/api/fetcher.ts` (bearer token from expo-secure-store) and
  // enables this target by setting its mutator; see issue 9.
  ...(process.env.TESSERA_ORVAL_MOBILE === "1"
    ? {
        mobile: {
          input: { target: spec },
          output: {
            ...shared,
            target: `${outRoot}/mobile/src/api/generated/endpoints.ts`,
            schemas: `${outRoot}/mobile/src/api/generated/model`,
            override: {
              ...shared.override,
              mutator: { path: `${outRoot}/mobile/src/api/fetcher.ts`, name: "apiFetch" },
            },
          },
        },
      }
    : {}),
});
