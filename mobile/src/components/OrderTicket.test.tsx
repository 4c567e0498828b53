import { fireEvent, render, screen, waitFor } from "@testing-library/react-native";

import type { Order } from "../api/generated/model";
import { OrderTicket } from "./OrderTicket";

const BTC_USDT = {
  symbol: "BTC-USDT",
  base_asset: "BTC",
  quote_asset: "USDT",
  tick_size: "0.01",
  lot_size: "0.00001",
  min_notional: "5",
};

function renderTicket(available: Record<string, string>, quote: { bestBid?: string; bestAsk?: string } = {}) {
  const onPlace = jest.fn(async (order: object) => ({ id: 7, status: "open", ...order }) as unknown as Order);
  render(<OrderTicket rules={BTC_USDT} available={available} bestBid={quote.bestBid} bestAsk={quote.bestAsk} onPlace={onPlace} />);
  return onPlace;
}

const buy = () => fireEvent.press(screen.getByRole("button", { name: "Buy BTC" }));

test("a limit price off the tick grid and a quantity off the lot grid are refused before sending", async () => {
  const onPlace = renderTicket({ USDT: "100000" });
  fireEvent.changeText(screen.getByLabelText("Price (USDT)"), "64000.005");
  fireEvent.changeText(screen.getByLabelText("Quantity (BTC)"), "0.000015");
  buy();
  expect(await screen.findByText("Price must be a multiple of the tick size 0.01.")).toBeOnTheScreen();
  expect(screen.getByText("Quantity must be a multiple of the lot size 0.00001.")).toBeOnTheScreen();
  expect(onPlace).not.toHaveBeenCalled();
});

test("a limit buy worth more than the available quote is refused with both amounts", async () => {
  const onPlace = renderTicket({ USDT: "100" });
  fireEvent.changeText(screen.getByLabelText("Price (USDT)"), "64000");
  fireEvent.changeText(screen.getByLabelText("Quantity (BTC)"), "0.01");
  buy();
  expect(await screen.findByText("Not enough USDT: 640 needed, 100 available.")).toBeOnTheScreen();
  expect(onPlace).not.toHaveBeenCalled();
});

test("an order below the minimum notional is refused", async () => {
  renderTicket({ USDT: "100" });
  fireEvent.changeText(screen.getByLabelText("Price (USDT)"), "1");
  fireEvent.changeText(screen.getByLabelText("Quantity (BTC)"), "0.01");
  buy();
  expect(await screen.findByText("Order value 0.01 USDT is below the minimum 5 USDT.")).toBeOnTheScreen();
});

test("a sell for more base than available points at the quantity", async () => {
  renderTicket({ BTC: "0.001", USDT: "0" });
  fireEvent.press(screen.getByRole("radio", { name: "Sell" }));
  fireEvent.changeText(screen.getByLabelText("Price (USDT)"), "64000");
  fireEvent.changeText(screen.getByLabelText("Quantity (BTC)"), "0.01");
  fireEvent.press(screen.getByRole("button", { name: "Sell BTC" }));
  expect(await screen.findByText("Not enough BTC: 0.001 available.")).toBeOnTheScreen();
});

test("a market buy spends a quote budget and needs someone selling", async () => {
  const onPlace = renderTicket({ USDT: "1000" });
  fireEvent.press(screen.getByRole("radio", { name: "Market" }));
  expect(screen.queryByLabelText("Price (USDT)")).toBeNull();
  fireEvent.changeText(screen.getByLabelText("Spend (USDT)"), "50");
  buy();
  expect(await screen.findByText("Nobody is selling right now; a market buy would not fill.")).toBeOnTheScreen();
  expect(onPlace).not.toHaveBeenCalled();
});

test("a valid limit order is sent with the wire fields and the result is shown", async () => {
  const onPlace = renderTicket({ USDT: "1000" });
  fireEvent.changeText(screen.getByLabelText("Price (USDT)"), "64000.50");
  fireEvent.changeText(screen.getByLabelText("Quantity (BTC)"), "0.0100");
  buy();
  await waitFor(() => expect(onPlace).toHaveBeenCalledTimes(1));
  expect(onPlace).toHaveBeenCalledWith({
    symbol: "BTC-USDT",
    side: "buy",
    type: "limit",
    price: "64000.5",
    quantity: "0.01",
    time_in_force: "GTC",
    post_only: false,
  });
  expect(await screen.findByText("Order 7 open")).toBeOnTheScreen();
});
