import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import type { Market } from "../../../api/generated/model";
import { ticketFromDraft, type TicketInput } from "../../../lib/orderTicket";
import { OrderTicket } from "./OrderTicket";

const market: Market = {
  symbol: "BTC-USDT",
  base_asset: "BTC",
  quote_asset: "USDT",
  tick_size: "0.1",
  lot_size: "0.0001",
  min_notional: "10",
  price_band_pct: "10",
  maker_fee_rate: "0.001",
  taker_fee_rate: "0.002",
  status: "trading",
  created_at: "2026-11-01T00:00:00Z",
  updated_at: "2026-11-01T00:00:00Z",
  last: "64000",
  change_24h: "0.01",
  volume_24h: "12",
};

function renderTicket(draft?: TicketInput) {
  const fetchMock = vi.fn<typeof fetch>();
  vi.stubGlobal("fetch", fetchMock);
  const onDraftPlaced = vi.fn();
  render(
    <QueryClientProvider client={new QueryClient()}>
      <OrderTicket market={market} balances={[{ asset: "USDT", available: "500", held: "0" }]} quote={{ bestBid: "63999.9", bestAsk: "64000" }} draft={draft} onDraftPlaced={onDraftPlaced} />
    </QueryClientProvider>,
  );
  return { fetchMock, onDraftPlaced, user: userEvent.setup() };
}

describe("OrderTicket", () => {
  it("shows grid and balance errors before sending anything", async () => {
    const { fetchMock, user } = renderTicket();
    await user.type(screen.getByLabelText("Price (USDT)"), "64000.05");
    await user.type(screen.getByLabelText("Quantity (BTC)"), "0.01");
    await user.click(screen.getByRole("button", { name: "Buy BTC" }));

    expect(await screen.findByText("Price must be a multiple of the tick size 0.1.")).toBeInTheDocument();
    expect(fetchMock).not.toHaveBeenCalled();

    await user.clear(screen.getByLabelText("Price (USDT)"));
    await user.type(screen.getByLabelText("Price (USDT)"), "64000");
    expect(await screen.findByRole("alert")).toHaveTextContent("Not enough USDT: 640 needed, 500 available.");
    expect(screen.getByText("640 USDT")).toBeInTheDocument();
    expect(fetchMock).not.toHaveBeenCalled();
    vi.unstubAllGlobals();
  });

  it("shows an assistant's draft for review and sends it only when the trader confirms", async () => {
    const draft = ticketFromDraft({ side: "buy", type: "limit", price: "40000", quantity: "0.01", time_in_force: "GTC" });
    const { fetchMock, onDraftPlaced, user } = renderTicket(draft);
    expect(screen.getByRole("note")).toHaveTextContent("Filled in from the assistant's draft.");
    expect(screen.getByLabelText("Price (USDT)")).toHaveValue("40000");
    expect(screen.getByLabelText("Quantity (BTC)")).toHaveValue("0.01");
    expect(screen.getByRole("button", { name: "Buy" })).toHaveAttribute("aria-pressed", "true");
    expect(fetchMock).not.toHaveBeenCalled();

    const placed = { id: "1", symbol: "BTC-USDT", side: "buy", type: "limit", status: "open", price: "40000", quantity: "0.01" };
    const sent: unknown[] = [];
    fetchMock.mockImplementation(async (input) => {
      const request = input as Request;
      if (request.method === "POST" && request.url.endsWith("/api/v1/orders")) sent.push(await request.json());
      return new Response(JSON.stringify(placed), { status: 201, headers: { "content-type": "application/json" } });
    });
    await user.click(screen.getByRole("button", { name: "Buy BTC" }));
    await vi.waitFor(() => expect(onDraftPlaced).toHaveBeenCalledOnce());
    expect(sent).toEqual([{ symbol: "BTC-USDT", side: "buy", type: "limit", price: "40000", quantity: "0.01", time_in_force: "GTC", post_only: false }]);
    vi.unstubAllGlobals();
  });
});
