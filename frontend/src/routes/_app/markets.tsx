import { useQuery, useSuspenseQuery } from "@tanstack/react-query";
import { createFileRoute, Link } from "@tanstack/react-router";
import { useState } from "react";
import { css } from "styled-system/css";

import { getMarketsGetCandlesQueryOptions, getMarketsListMarketsSuspenseQueryOptions } from "../../api/generated/markets/markets";
import type { Market, Ticker } from "../../api/generated/model";
import { Card, PageTitle, tableClass } from "../../components/ui";
import { decimalPlaces, formatDecimal, parseSignedDecimal } from "../../lib/decimal";
import { useLiveChannel } from "../../lib/live";

export const Route = createFileRoute("/_app/markets")({
  loader: ({ context }) => context.queryClient.ensureQueryData(getMarketsListMarketsSuspenseQueryOptions()),
  component: MarketsPage,
});

function MarketsPage() {
  const { data } = useSuspenseQuery(getMarketsListMarketsSuspenseQueryOptions());
  return (
    <>
      <PageTitle>Markets</PageTitle>
      <Card>
        <table className={tableClass}>
          <thead>
            <tr>
              <th>Market</th>
              <th className="num">Last</th>
              <th className="num">24h change</th>
              <th className="num">24h volume</th>
              <th>24h</th>
            </tr>
          </thead>
          <tbody>
            {data.items.map((market) => (
              <MarketRow key={market.symbol} market={market} />
            ))}
          </tbody>
        </table>
      </Card>
    </>
  );
}

/** One row, kept current by the `ticker:{symbol}` channel. */
function MarketRow({ market }: { market: Market }) {
  const [ticker, setTicker] = useState<Ticker | null>(null);
  useLiveChannel(`ticker:${market.symbol}`, (message) => {
    if (message.kind === "frame") setTicker(message.frame.data as Ticker);
  });
  const last = ticker?.last ?? market.last;
  const change = parseSignedDecimal(ticker?.change_24h ?? market.change_24h);
  const places = decimalPlaces(market.tick_size);
  return (
    <tr>
      <td>
        <Link to="/trade/$symbol" params={{ symbol: market.symbol }} className={css({ fontWeight: "semibold", color: "accent.text" })}>
          {market.base_asset}/{market.quote_asset}
        </Link>
      </td>
      <td className="num">{formatDecimal(last, places)}</td>
      <td className="num" style={{ color: change === undefined ? undefined : change.lt(0) ? "var(--colors-sell)" : "var(--colors-buy)" }}>
        {change === undefined ? "—" : `${change.gte(0) ? "+" : ""}${formatDecimal(change.times(100), 2)}%`}
      </td>
      <td className="num">{formatDecimal(ticker?.volume_24h ?? market.volume_24h, 2)}</td>
      <td>
        <Sparkline symbol={market.symbol} />
      </td>
    </tr>
  );
}

function Sparkline({ symbol }: { symbol: string }) {
  const { data } = useQuery(getMarketsGetCandlesQueryOptions(symbol, { interval: "1h", limit: 24 }));
  const closes = (data?.items ?? []).map((candle) => Number(candle.close)); // drawing only, never money math
  if (closes.length < 2) return <span className={css({ color: "fg.muted", fontSize: "xs" })}>—</span>;
  const min = Math.min(...closes);
  const max = Math.max(...closes);
  const span = max - min || 1;
  const points = closes.map((close, index) => `${(index / (closes.length - 1)) * 100},${28 - ((close - min) / span) * 26}`).join(" ");
  const up = (closes.at(-1) ?? 0) >= (closes[0] ?? 0);
  return (
    <svg viewBox="0 0 100 30" width="100" height="30" role="img" aria-label={`${symbol} price over 24 hours`}>
      <polyline points={points} fill="none" strokeWidth="1.5" stroke={up ? "var(--colors-buy)" : "var(--colors-sell)"} />
    </svg>
  );
}
