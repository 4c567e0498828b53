/**
 * The web app's fetcher for the Orval-generated client: same-origin cookies carry the session (no token
 * ever reaches JavaScript), unsafe methods repeat the `tessera_csrf` cookie in `X-CSRF-Token`
 * (double-submit), and every non-2xx answer is thrown as a `ProblemError`.
 */
import ky, { HTTPError, type KyInstance } from "ky";

import { env } from "../env";
import { networkProblem, ProblemError, problemFromResponse } from "./problem";

export const CSRF_COOKIE = "tessera_csrf";
export const CSRF_HEADER = "X-CSRF-Token";
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Used by Orval as the error type of every generated hook. */
export type ErrorType<Body> = Body extends unknown ? ProblemError : never;

export function readCookie(name: string, cookies: string = document.cookie): string | undefined {
  for (const part of cookies.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return undefined;
}

export const http: KyInstance = ky.create({
  credentials: "include",
  retry: 0,
  timeout: 30_000,
  hooks: {
    beforeRequest: [
      ({ request }) => {
        if (SAFE_METHODS.has(request.method.toUpperCase())) return;
        const token = readCookie(CSRF_COOKIE);
        if (token !== undefined) request.headers.set(CSRF_HEADER, token);
      },
    ],
  },
});

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === "") return undefined;
  const contentType = response.headers.get("content-type") ?? "";
  if (!contentType.toLowerCase().includes("json")) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

async function send(url: string, init: RequestInit): Promise<Response> {
  try {
    // Orval gives origin-relative paths; the API origin is this page's unless env says otherwise.
    return await http(new URL(url, env.apiOrigin ?? window.location.origin), { ...init, throwHttpErrors: false });
  } catch (error) {
    if (error instanceof HTTPError || init.signal?.aborted) throw error;
    throw new ProblemError(networkProblem(url));
  }
}

const REFRESH_URL = "/api/v1/auth/refresh";
let refreshing: Promise<boolean> | undefined;

/** One refresh at a time: the access cookie is short-lived, the refresh cookie renews it. */
function refreshSession(): Promise<boolean> {
  refreshing ??= send(REFRESH_URL, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })
    .then((response) => response.ok)
    .catch(() => false)
    .finally(() => {
      refreshing = undefined;
    });
  return refreshing;
}

/** Orval's mutator: `url` already carries the path and query string; `init` the method, body, signal. */
export async function apiFetch<T>(url: string, init: RequestInit = {}): Promise<T> {
  let response = await send(url, init);
  if (response.status === 401 && !url.startsWith("/api/v1/auth/") && (await refreshSession())) {
    response = await send(url, init);
  }
  const body = await readBody(response);
  if (!response.ok) {
    throw new ProblemError(
      problemFromResponse(response.status, response.headers.get("content-type"), body, url),
    );
  }
  return body as T;
}
