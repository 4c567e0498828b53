import { useQueryClient } from "@tanstack/react-query";
import { Stack, useLocalSearchParams } from "expo-router";
import { Text, View } from "react-native";

import { getLedgerListBalancesQueryKey, useLedgerListBalances } from "../../../src/api/generated/ledger/ledger";
import {
  getMarketsGetCandlesQueryKey,
  getMarketsGetMarketQueryKey,
  getMarketsGetTradesQueryKey,
  useMarketsGetCandles,
  useMarketsGetMarket,
  useMarketsGetTrades,
} from "../../../src/api/generated/markets/markets";
import type { Candle, CandleList, Market, OrderBook, Trade, TradeList } from "../../../src/api/generated/model";
import { getTradingGetBookQueryKey, getTradingListOrdersQueryKey, tradingPlaceOrder, useTradingGetBook } from "../../../src/api/generated/trading/trading";
import { CandleChart } from "../../../src/components/CandleChart";
import { OrderBookView, useLiveBook } from "../../../src/components/OrderBook";
import { OrderTicket } from "../../../src/components/OrderTicket";
import { Screen } from "../../../src/components/Screen";
import { Card, ErrorText, Muted, Title, styles as ui } from "../../../src/components/ui";
import { liveSocket, useLiveChannel } from "../../../src/lib/live";
import { bestPrices, decimalPlaces, formatDecimal } from "../../../src/lib/web";
import { colors } from "../../../src/theme";

const INTERVAL = "1m";
const CANDLES = { interval: INTERVAL, limit: 60 } as const;
const TRADES = { limit: 20 } as const;

function BookAndTicket({ market, snapshot }: { market: Market; snapshot: OrderBook }) {
  const queryClient = useQueryClient();
  const book = useLiveBook(market.symbol, snapshot);
  const balances = useLedgerListBalances();
  const available = Object.fromEntries((balances.data ?? []).map((balance) => [balance.asset, balance.available]));
  const { bestBid, bestAsk } = bestPrices(book);
  return (
    <>
      <Card>
        <Title>Order book</Title>
        <OrderBookView state={book} tickSize={market.tick_size} />
      </Card>
      <Card>
        <Title>Trade</Title>
        <OrderTicket
          rules={market}
          available={available}
          bestBid={bestBid}
          bestAsk={bestAsk}
          onPlace={async (order) => {
            const placed = await tradingPlaceOrder(order);
            void queryClient.invalidateQueries({ queryKey: getLedgerListBalancesQueryKey() });
            void queryClient.invalidateQueries({ queryKey: [getTradingListOrdersQueryKey()[0]] });
            return placed;
          }}
        />
      </Card>
    </>
  );
}

function RecentTrades({ trades }: { trades: readonly Trade[] }) {
  if (trades.length === 0) return <Muted>No trades yet.</Muted>;
  return (
    <View accessibilityLabel="Recent trades">
      {trades.map((trade) => (
        <View key={trade.trade_id} style={ui.row}>
          <Text style={[ui.mono, { color: trade.taker_side === "buy" ? colors.buy : colors.sell }]}>{formatDecimal(trade.price)}</Text>
          <Text style={ui.mono}>{formatDecimal(trade.quantity)}</Text>
          <Muted>{new Date(trade.time).toLocaleTimeString()}</Muted>
        </View>
      ))}
    </View>
  );
}

/** Keeps the candles and trades queries current from their channels, in the generated keys' cache. */
function useLiveMarketData(symbol: string): void {
  const queryClient = useQueryClient();
  useLiveChannel(`candles:${symbol}:${INTERVAL}`, (message) => {
    if (message.kind === "resync") void queryClient.invalidateQueries({ queryKey: getMarketsGetCandlesQueryKey(symbol, CANDLES) });
    if (message.kind !== "frame") return;
    const candle = message.frame.data as Candle;
    queryClient.setQueryData<CandleList>(getMarketsGetCandlesQueryKey(symbol, CANDLES), (current) => {
      if (current === undefined) return current;
      const others = current.items.filter((item) => item.time !== candle.time);
      return { ...current, items: [...others, candle].sort((a, b) => a.time.localeCompare(b.time)).slice(-CANDLES.limit) };
    });
  });
  useLiveChannel(`trades:${symbol}`, (message) => {
    if (message.kind === "resync") void queryClient.invalidateQueries({ queryKey: getMarketsGetTradesQueryKey(symbol, TRADES) });
    if (message.kind !== "frame") return;
    const trade = message.frame.data as Trade;
    queryClient.setQueryData<TradeList>(getMarketsGetTradesQueryKey(symbol, TRADES), (current) =>
      current === undefined ? current : { ...current, items: [trade, ...current.items.filter((item) => item.trade_id !== trade.trade_id)].slice(0, TRADES.limit) },
    );
  });
}

export default function MarketScreen() {
  const { symbol = "" } = useLocalSearchParams<{ symbol: string }>();
  const queryClient = useQueryClient();
  const market = useMarketsGetMarket(symbol);
  const candles = useMarketsGetCandles(symbol, CANDLES);
  const trades = useMarketsGetTrades(symbol, TRADES);
  const book = useTradingGetBook(symbol);
  useLiveMarketData(symbol);

  const refresh = () => {
    for (const queryKey of [getMarketsGetMarketQueryKey(symbol), getMarketsGetCandlesQueryKey(symbol, CANDLES), getMarketsGetTradesQueryKey(symbol, TRADES), getTradingGetBookQueryKey(symbol)]) {
      void queryClient.invalidateQueries({ queryKey });
    }
    liveSocket().resubscribe(`book:${symbol}`);
  };

  const places = market.data === undefined ? 2 : decimalPlaces(market.data.tick_size);
  const last = candles.data?.items.at(-1)?.close ?? market.data?.last ?? null;
  return (
    <Screen refreshing={market.isRefetching || candles.isRefetching} onRefresh={refresh}>
      <Stack.Screen options={{ title: symbol }} />
      <ErrorText error={market.error ?? candles.error ?? trades.error ?? book.error} />
      <Card label="Price">
        <Text style={[ui.mono, { fontSize: 28, fontWeight: "700" }]}>{formatDecimal(last, places)}</Text>
        <Muted>{market.data === undefined ? "" : `${market.data.base_asset}/${market.data.quote_asset} · tick ${market.data.tick_size} · lot ${market.data.lot_size}`}</Muted>
      </Card>
      <Card>
        <Title>Last hour (1m)</Title>
        <CandleChart candles={candles.data?.items ?? []} />
      </Card>
      {market.data !== undefined && book.data !== undefined && <BookAndTicket market={market.data} snapshot={book.data} />}
      <Card>
        <Title>Recent trades</Title>
        <RecentTrades trades={trades.data?.items ?? []} />
      </Card>
    </Screen>
  );
}
