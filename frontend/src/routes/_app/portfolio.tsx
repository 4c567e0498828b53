import { useSuspenseQuery } from "@tanstack/react-query";
import { createFileRoute, Link } from "@tanstack/react-router";
import { css } from "styled-system/css";

import { getLedgerListBalancesSuspenseQueryOptions } from "../../api/generated/ledger/ledger";
import { getMarketsListMarketsSuspenseQueryOptions } from "../../api/generated/markets/markets";
import type { Balance, Market } from "../../api/generated/model";
import { Card, PageTitle, tableClass } from "../../components/ui";
import { dec, formatDecimal, parseDecimal, type Decimal } from "../../lib/decimal";

const VALUATION_ASSET = "USDT";

export const Route = createFileRoute("/_app/portfolio")({
  loader: ({ context: { queryClient } }) =>
    Promise.all([queryClient.ensureQueryData(getLedgerListBalancesSuspenseQueryOptions()), queryClient.ensureQueryData(getMarketsListMarketsSuspenseQueryOptions())]),
  component: PortfolioPage,
});

/** Value of `amount` of `asset` in USDT through the asset's USDT market's last price; undefined when unpriced. */
export function valueInQuote(asset: string, amount: Decimal, markets: Market[]): Decimal | undefined {
  if (asset === VALUATION_ASSET) return amount;
  const market = markets.find((m) => m.base_asset === asset && m.quote_asset === VALUATION_ASSET);
  const last = parseDecimal(market?.last ?? undefined);
  return last === undefined ? undefined : amount.times(last);
}

function PortfolioPage() {
  const { data: balances } = useSuspenseQuery(getLedgerListBalancesSuspenseQueryOptions());
  const { data: markets } = useSuspenseQuery(getMarketsListMarketsSuspenseQueryOptions());
  const rows = balances.map((balance: Balance) => {
    const total = dec(balance.available).plus(dec(balance.held));
    return { ...balance, total, value: valueInQuote(balance.asset, total, markets.items) };
  });
  const totalValue = rows.reduce((sum, row) => (row.value ? sum.plus(row.value) : sum), dec("0"));
  return (
    <>
      <PageTitle>Portfolio</PageTitle>
      <Card title={`Total value ≈ ${formatDecimal(totalValue, 2)} ${VALUATION_ASSET}`}>
        {rows.length === 0 ? (
          <p className={css({ color: "fg.muted" })}>
            No funds yet. <Link to="/markets">Browse the markets</Link>.
          </p>
        ) : (
          <table className={tableClass}>
            <thead>
              <tr>
                <th>Asset</th>
                <th className="num">Available</th>
                <th className="num">Held</th>
                <th className="num">Total</th>
                <th className="num">Value ({VALUATION_ASSET})</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.asset}>
                  <td>{row.asset}</td>
                  <td className="num">{formatDecimal(row.available)}</td>
                  <td className="num">{formatDecimal(row.held)}</td>
                  <td className="num">{formatDecimal(row.total)}</td>
                  <td className="num">{row.value ? formatDecimal(row.value, 2) : "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </>
  );
}
