import { afterEach, describe, expect, it, vi } from "vitest";

import { apiFetch, readCookie } from "./fetcher";
import { pointerToField, ProblemError, problemFromResponse } from "./problem";

const validation = {
  type: "urn:tessera:problem:validation",
  title: "Invalid Input",
  status: 422,
  detail: "The request has 3 invalid fields.",
  instance: "/api/v1/withdrawals",
  request_id: "req-123",
  errors: [
    { location: "body", pointer: "/amount", detail: "not on the asset's grid", code: "off_grid" },
    { location: "body", pointer: "/beneficiary/name/0/primary_identifier", detail: "required", code: "missing" },
    { location: "body", pointer: "/amount", detail: "second message for the same field", code: "x" },
    { location: "query", pointer: "/cursor", detail: "bad cursor", code: "invalid" },
  ],
};

function jsonResponse(status: number, body: unknown, contentType = "application/problem+json"): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": contentType } });
}

describe("problem details", () => {
  it("maps JSON Pointers to form field names", () => {
    expect(pointerToField("/price")).toBe("price");
    expect(pointerToField("/beneficiary/name/0/primary_identifier")).toBe("beneficiary.name.0.primary_identifier");
    expect(pointerToField("/a~1b/c~0d")).toBe("a/b.c~d");
    expect(pointerToField("")).toBe("");
  });

  it("gives per-field messages for body errors and keeps the rest for the form", () => {
    const error = new ProblemError(problemFromResponse(422, "application/problem+json", validation, "/x"));
    expect(error.status).toBe(422);
    expect(error.slug).toBe("validation");
    expect(error.requestId).toBe("req-123");
    expect(error.message).toBe("The request has 3 invalid fields.");
    expect(error.fieldErrors).toEqual({
      amount: "not on the asset's grid",
      "beneficiary.name.0.primary_identifier": "required",
    });
    expect(error.formErrors).toEqual(["The request has 3 invalid fields.", "query cursor: bad cursor"]);
  });

  it("keeps extensions and drops malformed field errors", () => {
    const problem = problemFromResponse(
      429,
      "application/problem+json",
      { type: "urn:tessera:problem:rate-limited", title: "Too Many Requests", status: 429, detail: "slow down", retry_after: 3, errors: [{ pointer: 1 }] },
      "/api/v1/orders",
    );
    expect(problem.retry_after).toBe(3);
    expect(problem.errors).toBeUndefined();
    expect(problem.instance).toBe("/api/v1/orders");
  });

  it("turns a non-problem answer into a generic problem for its status", () => {
    expect(problemFromResponse(502, "text/html", "<html>bad gateway</html>", "/api/v1/me")).toEqual({
      type: "about:blank",
      title: "Bad Gateway",
      status: 502,
      detail: "The server could not answer; try again shortly.",
      instance: "/api/v1/me",
    });
  });
});

describe("apiFetch", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    document.cookie = "tessera_csrf=; expires=Thu, 01 Jan 1970 00:00:00 GMT";
  });

  it("sends cookies and the CSRF token on unsafe methods only", async () => {
    document.cookie = "tessera_csrf=tok%2Fen.1";
    const fetchMock = vi.fn<typeof fetch>(() => Promise.resolve(jsonResponse(200, { ok: true }, "application/json")));
    vi.stubGlobal("fetch", fetchMock);

    await expect(apiFetch("/api/v1/orders", { method: "POST", body: "{}" })).resolves.toEqual({ ok: true });
    await apiFetch("/api/v1/me", { method: "GET" });

    const [post, get] = fetchMock.mock.calls.map(([request]) => request as Request);
    expect(post?.credentials).toBe("include");
    expect(post?.headers.get("X-CSRF-Token")).toBe("tok/en.1");
    expect(get?.headers.get("X-CSRF-Token")).toBeNull();
  });

  it("throws a ProblemError with field errors for a problem answer", async () => {
    vi.stubGlobal("fetch", vi.fn<typeof fetch>(() => Promise.resolve(jsonResponse(422, validation))));
    const error: unknown = await apiFetch("/api/v1/withdrawals", { method: "POST", body: "{}" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProblemError);
    expect((error as ProblemError).fieldErrors.amount).toBe("not on the asset's grid");
  });

  it("turns a network failure into a network problem", async () => {
    vi.stubGlobal("fetch", vi.fn<typeof fetch>(() => Promise.reject(new TypeError("Failed to fetch"))));
    const error: unknown = await apiFetch("/api/v1/me").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProblemError);
    expect((error as ProblemError).status).toBe(0);
    expect((error as ProblemError).slug).toBe("network");
  });

  it("reads cookies by exact name", () => {
    expect(readCookie("tessera_csrf", "a=1; tessera_csrf_old=x; tessera_csrf=v%3D1")).toBe("v=1");
    expect(readCookie("missing", "a=1")).toBeUndefined();
  });
});
