import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { AuditEntry, AuditVerification } from "../../../api/generated/model";
import { jsonResponse } from "../../../test/responses";
import { AUDIT_PAGE_SIZE, AuditLog, auditParams } from "./AuditLog";


function entry(id: number, action: string, subject: string | null): AuditEntry {
  return { id, occurred_at: "2026-12-01T10:00:00Z", actor_id: null, action, subject, ip: "203.0.113.9", request_id: `r${id}`, details: { n: id }, hash: "ab".repeat(32) };
}

/** The API as the section sees it: the log answers with `answer(url)`, verification with `verification`. */
function renderLog(answer: (url: URL) => Response, verification?: AuditVerification) {
  const asked: URL[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn<typeof fetch>((input) => {
      const url = new URL((input as Request).url);
      asked.push(url);
      return Promise.resolve(url.pathname === "/api/v1/audit/verify" ? jsonResponse(200, verification) : answer(url));
    }),
  );
  render(
    <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
      <AuditLog />
    </QueryClientProvider>,
  );
  return { asked, user: userEvent.setup() };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("auditParams", () => {
  it("sends trimmed filters and the page's cursor, and leaves blanks out", () => {
    expect(auditParams({ action: " wallets. ", subject: "" }, undefined)).toEqual({ limit: AUDIT_PAGE_SIZE, action: "wallets." });
    expect(auditParams({ action: "", subject: "withdrawal:7" }, "41")).toEqual({ limit: AUDIT_PAGE_SIZE, subject: "withdrawal:7", cursor: "41" });
  });
});

describe("AuditLog", () => {
  it("pages older and newer through the cursor the API hands out", async () => {
    const { asked, user } = renderLog((url) =>
      url.searchParams.get("cursor") === "41"
        ? jsonResponse(200, { items: [entry(40, "auth.user.registered", "user:1")], next_cursor: null })
        : jsonResponse(200, { items: [entry(42, "trading.halt", "BTC-USDT"), entry(41, "auth.login.succeeded", null)], next_cursor: "41" }),
    );
    const table = await screen.findByRole("table", { name: "Audit log entries" });
    expect(within(table).getAllByRole("row")).toHaveLength(3);
    expect(within(table).getByText("trading.halt")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Newer" })).toHaveProperty("disabled", true);

    await user.click(screen.getByRole("button", { name: "Older" }));
    expect(await screen.findByText("auth.user.registered")).toBeTruthy();
    expect(asked.at(-1)?.searchParams.get("cursor")).toBe("41");
    expect(screen.getByRole("button", { name: "Older" })).toHaveProperty("disabled", true);

    await user.click(screen.getByRole("button", { name: "Newer" }));
    expect(await screen.findByText("trading.halt")).toBeTruthy();
  });

  it("narrows to a subject's trail when its subject is clicked, and says which filter the API refused", async () => {
    const invalid = {
      type: "urn:tessera:problem:validation",
      title: "Invalid Input",
      status: 422,
      detail: "The request is invalid.",
      instance: "/api/v1/audit/entries",
      request_id: "r9",
      errors: [{ location: "query", pointer: "/action", detail: "String should match pattern '^[a-z0-9_.]+$'", code: "string_pattern_mismatch" }],
    };
    const { asked, user } = renderLog((url) =>
      url.searchParams.get("action") === "Bad%" ? jsonResponse(422, invalid, "application/problem+json") : jsonResponse(200, { items: [entry(7, "wallets.withdrawal.approved", "withdrawal:7")], next_cursor: null }),
    );
    await user.click(await screen.findByRole("button", { name: "Show the trail of withdrawal:7" }));
    expect(asked.at(-1)?.searchParams.get("subject")).toBe("withdrawal:7");
    expect(screen.getByLabelText("Subject")).toHaveProperty("value", "withdrawal:7");

    await user.type(screen.getByLabelText("Action starts with"), "Bad%");
    await user.click(screen.getByRole("button", { name: "Filter" }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("query action: String should match pattern '^[a-z0-9_.]+$'");
    expect(alert.textContent).toContain("Request id: r9");
  });

  it("checks the chain only when asked and says where it broke", async () => {
    const { asked, user } = renderLog(() => jsonResponse(200, { items: [], next_cursor: null }), { intact: false, entries: 12, first_broken_id: 5, reason: "hash mismatch" });
    expect(await screen.findByText("No entries match.")).toBeTruthy();
    expect(asked.some((url) => url.pathname === "/api/v1/audit/verify")).toBe(false);

    await user.click(screen.getByRole("button", { name: "Verify chain" }));
    expect(await screen.findByText("Chain broken at entry 5: hash mismatch")).toBeTruthy();
  });
});
