/** Everything the app reads from its build environment, in one place (STYLE 14). */

function readOrigin(value: string | undefined): string | undefined {
  if (value === undefined || value === "") return undefined;
  return new URL(value).origin;
}

export const env = {
  /** Where the API lives. Unset in every normal setup: the API serves this app, so calls stay same-origin. */
  apiOrigin: readOrigin(import.meta.env.VITE_TESSERA_API_ORIGIN as string | undefined),
  /** Development build (the Vite dev server): shows the dev faucet and other dev-only help. */
  isDev: import.meta.env.DEV,
} as const;

/** The absolute URL of the WebSocket gateway, derived from the API origin (or this page's). */
export function webSocketUrl(location: Pick<Location, "origin"> = window.location): string {
  const origin = env.apiOrigin ?? location.origin;
  return `${origin.replace(/^http/, "ws")}/ws`;
}
