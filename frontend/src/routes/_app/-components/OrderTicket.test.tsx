import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import type { Market } from "../../../api/generated/model";
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

function renderTicket() {
  const fetchMock = vi.fn<typeof fetch>();
  vi.stubGlobal("fetch", fetchMock);
  render(
    <QueryClientProvider client={new QueryClient()}>
      <OrderTicket market={market} balances={[{ asset: "USDT", available: "500", held: "0" }]} quote={{ bestBid: "63999.9", bestAsk: "64000" }} />
    </QueryClientProvider>,
  );
  return { fetchMock, user: userEvent.setup() };
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
});
