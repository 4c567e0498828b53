/**
 * The mobile app's fetcher for the Orval-generated client: `Authorization: Bearer` with the access token
 * from the token store, one refresh (and one retry) when the API answers 401, and every non-2xx answer
 * thrown as a `ProblemError`.
 */
import { apiOrigin } from "../env";
import { networkProblem, ProblemError, problemFromResponse } from "./problem";
import { readTokens, writeTokens, type SessionTokens } from "./tokenStore";

/** Used by Orval as the error type of every generated hook. */
export type ErrorType<Body> = Body extends unknown ? ProblemError : never;

const REFRESH_URL = "/api/v1/auth/refresh";
const AUTH_PATHS = "/api/v1/auth/";

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === "") return undefined;
  if (!(response.headers.get("content-type") ?? "").toLowerCase().includes("json")) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

async function send(url: string, init: RequestInit, accessToken: string | undefined): Promise<Response> {
  const headers = new Headers(init.headers);
  if (accessToken !== undefined) headers.set("Authorization", `Bearer ${accessToken}`);
  try {
    // Bearer clients never rely on cookies; "omit" keeps the web build from mixing the two.
    return await fetch(new URL(url, apiOrigin()).toString(), { ...init, headers, credentials: "omit" });
  } catch (error) {
    if (init.signal?.aborted) throw error;
    throw new ProblemError(networkProblem(url));
  }
}

let refreshing: Promise<SessionTokens | null> | undefined;

/** One refresh at a time: each refresh token works once, so concurrent 401s share the same exchange. */
function refreshTokens(refreshToken: string): Promise<SessionTokens | null> {
  refreshing ??= (async () => {
    const response = await send(
      REFRESH_URL,
      { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ refresh_token: refreshToken }) },
      undefined,
    );
    const body = (await readBody(response)) as { access_token?: unknown; refresh_token?: unknown } | undefined;
    if (response.ok && typeof body?.access_token === "string" && typeof body.refresh_token === "string") {
      const renewed = { accessToken: body.access_token, refreshToken: body.refresh_token };
      await writeTokens(renewed);
      return renewed;
    }
    // A refused refresh token ends the session (the app shows sign-in); a server hiccup keeps it.
    if (response.status === 401) await writeTokens(null);
    return null;
  })()
    .catch(() => null)
    .finally(() => {
      refreshing = undefined;
    });
  return refreshing;
}

/** Orval's mutator: `url` already carries the path and query string; `init` the method, body, signal. */
export async function apiFetch<T>(url: string, init: RequestInit = {}): Promise<T> {
  const tokens = await readTokens();
  let response = await send(url, init, tokens?.accessToken);
  if (response.status === 401 && tokens !== null && !url.startsWith(AUTH_PATHS)) {
    const renewed = await refreshTokens(tokens.refreshToken);
    if (renewed !== null) response = await send(url, init, renewed.accessToken);
  }
  const body = await readBody(response);
  if (!response.ok) {
    throw new ProblemError(problemFromResponse(response.status, response.headers.get("content-type"), body, url));
  }
  return body as T;
}
