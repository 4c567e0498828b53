import { useQuery, useSuspenseQuery } from "@tanstack/react-query";
import { createFileRoute } from "@tanstack/react-router";
import { useState, type ReactNode } from "react";
import { css } from "styled-system/css";

import { getLedgerListBalancesQueryOptions, getLedgerListBalancesSuspenseQueryOptions } from "../../api/generated/ledger/ledger";
import { getMarketsGetMarketSuspenseQueryOptions, getMarketsGetTickerSuspenseQueryOptions, getMarketsGetTradesSuspenseQueryOptions } from "../../api/generated/markets/markets";
import { useAssistantOrderDraft } from "../../api/generated/assistant/assistant";
import type { OrderDraft, Ticker } from "../../api/generated/model";
import { getTradingGetBookSuspenseQueryOptions } from "../../api/generated/trading/trading";
import { PageTitle } from "../../components/ui";
import { decimalPlaces, formatDecimal } from "../../lib/decimal";
import { useLiveChannel } from "../../lib/live";
import { bestPrices } from "../../lib/orderBook";
import { ticketFromDraft, type TicketInput } from "../../lib/orderTicket";
import { AssistantPanel } from "./-components/AssistantPanel";
import { BalancesPanel } from "./-components/BalancesPanel";
import { CandleChart } from "./-components/CandleChart";
import { OrderBookPanel, useLiveBook } from "./-components/OrderBookPanel";
import { OrdersPanel } from "./-components/OrdersPanel";
import { OrderTicket } from "./-components/OrderTicket";
import { RecentTrades } from "./-components/RecentTrades";

const BOOK_DEPTH = { depth: 50 };
const TRADES = { limit: 40 };

export const Route = createFileRoute("/_app/trade/$symbol")({
  params: {
    parse: ({ symbol }) => ({ symbol: symbol.toUpperCase() }),
    stringify: ({ symbol }) => ({ symbol }),
  },
  loader: async ({ context: { queryClient }, params: { symbol } }) => {
    await Promise.all([
      queryClient.ensureQueryData(getMarketsGetMarketSuspenseQueryOptions(symbol)),
      queryClient.ensureQueryData(getMarketsGetTickerSuspenseQueryOptions(symbol)),
      queryClient.ensureQueryData(getTradingGetBookSuspenseQueryOptions(symbol, BOOK_DEPTH)),
      queryClient.ensureQueryData(getMarketsGetTradesSuspenseQueryOptions(symbol, TRADES)),
      queryClient.ensureQueryData(getLedgerListBalancesSuspenseQueryOptions()),
    ]);
  },
  component: TradePage,
});

/** The assistant's latest draft, waiting in its market's ticket for the trader to confirm. */
interface TicketPrefill {
  id: number;
  symbol: string;
  input: TicketInput;
}

function TradePage() {
  const { symbol } = Route.useParams();
  const navigate = Route.useNavigate();
  // The assistant's answer and draft live above the per-symbol screen so a draft for another market
  // survives the move to that market's screen.
  const assistant = useAssistantOrderDraft();
  const [prefill, setPrefill] = useState<TicketPrefill>();
  const onDraft = (draft: OrderDraft) => {
    setPrefill((current) => ({ id: (current?.id ?? 0) + 1, symbol: draft.symbol, input: ticketFromDraft(draft) }));
    if (draft.symbol !== symbol) void navigate({ params: { symbol: draft.symbol } });
  };
  // A new symbol is a new page: the live book and trades start over from their own snapshots.
  return (
    <TradeScreen
      key={symbol}
      symbol={symbol}
      assistant={<AssistantPanel assistant={assistant} onDraft={onDraft} />}
      prefill={prefill?.symbol === symbol ? prefill : undefined}
      onDraftPlaced={() => setPrefill(undefined)}
    />
  );
}

function TradeScreen({ symbol, assistant, prefill, onDraftPlaced }: { symbol: string; assistant: ReactNode; prefill: TicketPrefill | undefined; onDraftPlaced: () => void }) {
  const { data: market } = useSuspenseQuery(getMarketsGetMarketSuspenseQueryOptions(symbol));
  const { data: initialTicker } = useSuspenseQuery(getMarketsGetTickerSuspenseQueryOptions(symbol));
  const { data: book } = useSuspenseQuery({ ...getTradingGetBookSuspenseQueryOptions(symbol, BOOK_DEPTH), staleTime: Infinity });
  const { data: trades } = useSuspenseQuery(getMarketsGetTradesSuspenseQueryOptions(symbol, TRADES));
  const balances = useQuery(getLedgerListBalancesQueryOptions());
  const [ticker, setTicker] = useState<Ticker>(initialTicker);
  const liveBook = useLiveBook(symbol, book);

  useLiveChannel(`ticker:${symbol}`, (message) => {
    if (message.kind === "frame") setTicker(message.frame.data as Ticker);
  });

  const places = decimalPlaces(market.tick_size);
  const best = bestPrices(liveBook);
  const stat = css({ display: "flex", flexDirection: "column", fontSize: "xs", color: "fg.muted", "& strong": { fontSize: "sm", color: "fg.default", fontVariantNumeric: "tabular-nums" } });

  return (
    <>
      <div className={css({ display: "flex", alignItems: "baseline", gap: "6", flexWrap: "wrap", mb: "4" })}>
        <PageTitle>
          {market.base_asset}/{market.quote_asset}
        </PageTitle>
        <span className={stat}>
          Last <strong>{formatDecimal(ticker.last, places)}</strong>
        </span>
        <span className={stat}>
          24h high <strong>{formatDecimal(ticker.high_24h, places)}</strong>
        </span>
        <span className={stat}>
          24h low <strong>{formatDecimal(ticker.low_24h, places)}</strong>
        </span>
        <span className={stat}>
          24h volume <strong>{formatDecimal(ticker.volume_24h, 2)}</strong>
        </span>
        {market.status !== "trading" ? <span className={css({ color: "warning", fontWeight: "semibold" })}>Trading {market.status}</span> : null}
      </div>
      <div className={css({ display: "grid", gap: "4", gridTemplateColumns: { base: "1fr", lg: "minmax(0,1fr) 300px 320px" } })}>
        <div className={css({ display: "flex", flexDirection: "column", gap: "4", minWidth: 0 })}>
          <CandleChart symbol={symbol} />
          <OrdersPanel symbol={symbol} />
        </div>
        <div className={css({ display: "flex", flexDirection: "column", gap: "4" })}>
          <OrderBookPanel state={liveBook} tickSize={market.tick_size} />
          <RecentTrades symbol={symbol} initial={trades.items} tickSize={market.tick_size} />
        </div>
        <div className={css({ display: "flex", flexDirection: "column", gap: "4" })}>
          {assistant}
          <section aria-label="Place an order" className={css({ bg: "bg.surface", borderWidth: "1px", borderColor: "border.default", borderRadius: "lg", p: "4" })}>
            <OrderTicket
              key={prefill?.id ?? 0}
              market={market}
              balances={balances.data ?? []}
              quote={{ bestBid: best.bestBid ?? ticker.best_bid, bestAsk: best.bestAsk ?? ticker.best_ask }}
              draft={prefill?.input}
              onDraftPlaced={onDraftPlaced}
            />
          </section>
          <BalancesPanel balances={balances.data ?? []} assets={[market.base_asset, market.quote_asset]} />
        </div>
      </div>
    </>
  );
}
