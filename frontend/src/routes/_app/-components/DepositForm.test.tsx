import { focusManager, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { User } from "../../../api/generated/model";
import { AppToaster } from "../../../components/toaster";
import { jsonResponse } from "../../../test/responses";
import { DepositForm, receiptLine } from "./DepositForm";

const ADA: User = { id: "6f1c2f4e-1111-4222-8333-944445555666", email: "ada@example.test", display_name: "Ada Lovelace", role: "trader", totp_enabled: false, created_at: "2026-11-01T09:00:00Z" };
const NOT_FOUND = { type: "urn:tessera:problem:not-found", title: "Not Found", status: 404, detail: "No account has this email.", instance: "/api/v1/admin/users", request_id: "r1" };

/** The API as the form sees it: Ada is the only account; deposits answer `onDeposit(body)`. */
function renderForm(onDeposit: (body: Record<string, string>) => Response) {
  const sent: Record<string, string>[] = [];
  const asked: string[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn<typeof fetch>(async (input) => {
      const request = input as Request;
      const url = new URL(request.url);
      if (url.pathname === "/api/v1/admin/users") {
        asked.push(url.searchParams.get("email") ?? "");
        return url.searchParams.get("email") === ADA.email ? jsonResponse(200, ADA) : jsonResponse(404, NOT_FOUND, "application/problem+json");
      }
      const body = (await request.json()) as Record<string, string>;
      sent.push(body);
      return onDeposit(body);
    }),
  );
  render(
    <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
      <DepositForm assets={["BTC", "USDT"]} />
      <AppToaster />
    </QueryClientProvider>,
  );
  return { sent, lookups: (email: string) => asked.filter((one) => one === email).length, user: userEvent.setup() };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("receiptLine", () => {
  it("says whether this request credited the transfer", () => {
    const receipt = { asset: "BTC", available: "0.50", held: "0", reference: "wire-7", credited: true };
    expect(receiptLine(receipt, ADA)).toBe("Credited under wire-7. Ada Lovelace now has 0.5 BTC available.");
    expect(receiptLine({ ...receipt, credited: false }, ADA)).toBe("wire-7 was credited before; nothing moved. Ada Lovelace now has 0.5 BTC available.");
  });
});

describe("DepositForm", () => {
  it("finds the account by email, credits it once per reference and says when a retry moved nothing", async () => {
    let deposits = 0;
    const { sent, lookups, user } = renderForm((body) => {
      deposits += 1;
      const first = deposits === 1; // the API credits a reference once, then answers retries with 200
      return jsonResponse(first ? 201 : 200, { asset: body.asset, available: body.amount, held: "0", reference: body.reference, credited: first });
    });
    await user.type(screen.getByLabelText("Account email"), "nobody@example.test");
    await user.click(screen.getByRole("button", { name: "Find account" }));
    expect(await screen.findByText("No account has this email.")).toBeTruthy();

    await user.clear(screen.getByLabelText("Account email"));
    await user.type(screen.getByLabelText("Account email"), ADA.email);
    await user.click(screen.getByRole("button", { name: "Find account" }));
    expect(await screen.findByText("Ada Lovelace")).toBeTruthy();
    // Each look-up is audited: coming back to the window does not ask again.
    focusManager.setFocused(false);
    focusManager.setFocused(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lookups(ADA.email)).toBe(1);
    focusManager.setFocused(undefined);
    await user.selectOptions(screen.getByLabelText("Asset"), "BTC");
    await user.type(screen.getByLabelText("Amount"), "0.5");
    await user.type(screen.getByLabelText("External reference"), " wire-7 ");
    await user.click(screen.getByRole("button", { name: "Credit deposit" }));
    expect(await screen.findByText("Credited under wire-7. Ada Lovelace now has 0.5 BTC available.", { selector: "[role=status]" })).toBeTruthy();
    expect(sent).toEqual([{ user_id: ADA.id, asset: "BTC", amount: "0.5", reference: "wire-7" }]);

    await user.click(screen.getByRole("button", { name: "Credit deposit" }));
    expect(await screen.findByText("wire-7 was credited before; nothing moved. Ada Lovelace now has 0.5 BTC available.", { selector: "[role=status]" })).toBeTruthy();
  });

  it("shows the API's refusal of a reused reference and its field errors beside the inputs", async () => {
    const { user } = renderForm((body) =>
      body.amount === "-1"
        ? jsonResponse(422, { type: "urn:tessera:problem:validation", title: "Invalid Input", status: 422, detail: "The request is invalid.", instance: "/api/v1/admin/deposits", request_id: "r2", errors: [{ location: "body", pointer: "/amount", detail: "Input should be greater than 0", code: "greater_than" }] }, "application/problem+json")
        : jsonResponse(409, { type: "urn:tessera:problem:deposit-reference-used", title: "Deposit Reference Used", status: 409, detail: "Reference 'wire-7' was credited on 2026-12-01 10:00 UTC to another account, asset or amount.", instance: "/api/v1/admin/deposits", request_id: "r3" }, "application/problem+json"),
    );
    await user.type(screen.getByLabelText("Account email"), ADA.email);
    await user.click(screen.getByRole("button", { name: "Find account" }));
    await screen.findByText("Ada Lovelace");
    await user.type(screen.getByLabelText("Amount"), "-1");
    await user.type(screen.getByLabelText("External reference"), "wire-7");
    await user.click(screen.getByRole("button", { name: "Credit deposit" }));
    expect(await screen.findByText("Input should be greater than 0")).toBeTruthy();
    expect(screen.getByLabelText("Amount").getAttribute("aria-invalid")).toBe("true");

    await user.clear(screen.getByLabelText("Amount"));
    await user.type(screen.getByLabelText("Amount"), "5");
    await user.click(screen.getByRole("button", { name: "Credit deposit" }));
    expect(await screen.findByText(/was credited on 2026-12-01 10:00 UTC to another account/)).toBeTruthy();
  });
});
