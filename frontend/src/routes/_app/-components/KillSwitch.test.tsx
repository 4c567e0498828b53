import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import type { HaltState } from "../../../api/generated/model";
import { AppToaster } from "../../../components/toaster";
import { jsonResponse } from "../../../test/responses";
import { GLOBAL_SCOPE, haltOf, KillSwitch } from "./KillSwitch";


const HALTS: HaltState[] = [
  { scope: "global", halted: false, reason: "drill over", updated_at: "2026-12-01T10:00:00Z" },
  { scope: "BTC-USDT", halted: true, reason: "oracle outage", updated_at: "2026-12-01T11:00:00Z" },
];

/** The switch against an API that records what it was sent and answers the new state. */
function renderSwitch(symbol: string | null, state: HaltState | undefined) {
  const sent: unknown[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn<typeof fetch>(async (input) => {
      const request = input as Request;
      if (request.method !== "POST") return jsonResponse(200, HALTS);
      const body = (await request.json()) as { halted: boolean; reason: string | null };
      sent.push(body);
      return jsonResponse(200, { scope: symbol ?? GLOBAL_SCOPE, halted: body.halted, reason: body.reason, updated_at: "2026-12-02T09:00:00Z" });
    }),
  );
  render(
    <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
      <KillSwitch label={symbol ?? "every market"} symbol={symbol} state={state} />
      <AppToaster />
    </QueryClientProvider>,
  );
  return { sent, user: userEvent.setup() };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("haltOf", () => {
  it("finds a market's switch and the global one by scope, and nothing for a market never switched", () => {
    expect(haltOf(HALTS, "BTC-USDT")?.reason).toBe("oracle outage");
    expect(haltOf(HALTS, GLOBAL_SCOPE)?.halted).toBe(false);
    expect(haltOf(HALTS, "ETH-USDT")).toBeUndefined();
  });
});

describe("KillSwitch", () => {
  it("halts a market only with a reason, and sends it", async () => {
    const { sent, user } = renderSwitch("ETH-USDT", undefined);
    expect(screen.getByRole("status", { name: "ETH-USDT kill switch" }).textContent).toBe("Trading");
    const halt = screen.getByRole("button", { name: "Halt ETH-USDT" });
    expect(halt).toHaveProperty("disabled", true);

    await user.type(screen.getByLabelText("Reason to halt ETH-USDT"), "  exchange rate feed stalled ");
    await user.click(halt);
    expect(await screen.findByText("ETH-USDT halted")).toBeTruthy();
    expect(sent).toEqual([{ symbol: "ETH-USDT", halted: true, reason: "exchange rate feed stalled" }]);
  });

  it("resumes every market without a reason, and shows when and why it was halted", async () => {
    const { sent, user } = renderSwitch(null, { scope: "global", halted: true, reason: "incident 42", updated_at: "2026-12-01T10:00:00Z" });
    expect(screen.getByRole("status", { name: "every market kill switch" }).textContent).toBe("Halted");
    expect(screen.getByText(/incident 42/)).toBeTruthy();

    await user.click(screen.getByRole("button", { name: "Resume every market" }));
    expect(await screen.findByText("Every market trading again")).toBeTruthy();
    expect(sent).toEqual([{ symbol: null, halted: false, reason: null }]);
  });
});
