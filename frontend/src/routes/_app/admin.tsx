import { useSuspenseQuery } from "@tanstack/react-query";
import { createFileRoute, redirect } from "@tanstack/react-router";
import { css } from "styled-system/css";

import { getMarketsListMarketsSuspenseQueryOptions } from "../../api/generated/markets/markets";
import type { HaltState, Market } from "../../api/generated/model";
import { getTradingListHaltsSuspenseQueryOptions } from "../../api/generated/trading/trading";
import { Card, PageTitle, tableClass } from "../../components/ui";
import { formatDecimal } from "../../lib/decimal";
import { ADMIN_ROLES, hasRole } from "../../lib/session";
import { DepositForm } from "./-components/DepositForm";
import { GLOBAL_SCOPE, haltOf, KillSwitch } from "./-components/KillSwitch";

export const Route = createFileRoute("/_app/admin")({
  // Role guard: only administrators run the venue (the API refuses everyone else too).
  beforeLoad: ({ context }) => {
    if (!hasRole(context.me, ADMIN_ROLES)) throw redirect({ to: "/markets" });
  },
  loader: ({ context: { queryClient } }) =>
    Promise.all([
      queryClient.ensureQueryData(getTradingListHaltsSuspenseQueryOptions()),
      queryClient.ensureQueryData(getMarketsListMarketsSuspenseQueryOptions()),
    ]),
  component: AdminPage,
});

function AdminPage() {
  const { data: halts } = useSuspenseQuery(getTradingListHaltsSuspenseQueryOptions());
  const { data: markets } = useSuspenseQuery(getMarketsListMarketsSuspenseQueryOptions());
  const listed = markets.items;
  const assets = [...new Set(listed.flatMap((market) => [market.base_asset, market.quote_asset]))].sort();
  const global = haltOf(halts, GLOBAL_SCOPE);
  return (
    <>
      <PageTitle>Operations</PageTitle>
      <div className={css({ display: "flex", flexDirection: "column", gap: "4" })}>
        <Card title="Kill switch">
          <p className={css({ fontSize: "sm", color: "fg.muted", mb: "3" })}>
            Halting a market stops new orders and cancels every order resting in its book, releasing the traders&apos; holds. Each switch is audited with its reason.
          </p>
          <KillSwitch label="every market" symbol={null} state={global} />
        </Card>
        <DepositForm assets={assets} />
        <Card title={`Markets (${listed.length})`}>
          <div className={css({ overflowX: "auto" })}>
            <table className={tableClass} aria-label="Markets and their kill switches">
              <thead>
                <tr>
                  <th>Market</th>
                  <th>Listing</th>
                  <th className="num">Tick</th>
                  <th className="num">Lot</th>
                  <th className="num">Fees maker / taker</th>
                  <th>Kill switch</th>
                </tr>
              </thead>
              <tbody>
                {listed.map((market) => (
                  <MarketRow key={market.symbol} market={market} state={haltOf(halts, market.symbol)} globallyHalted={global?.halted === true} />
                ))}
              </tbody>
            </table>
          </div>
        </Card>
      </div>
    </>
  );
}

function MarketRow({ market, state, globallyHalted }: { market: Market; state: HaltState | undefined; globallyHalted: boolean }) {
  return (
    <tr>
      <td>{market.symbol}</td>
      <td>{market.status}</td>
      <td className="num">{formatDecimal(market.tick_size)}</td>
      <td className="num">{formatDecimal(market.lot_size)}</td>
      <td className="num">
        {formatDecimal(market.maker_fee_rate)} / {formatDecimal(market.taker_fee_rate)}
      </td>
      <td>
        <KillSwitch label={market.symbol} symbol={market.symbol} state={state} />
        {globallyHalted && state?.halted !== true ? <p className={css({ fontSize: "xs", color: "warning", mt: "1" })}>Halted with every market.</p> : null}
      </td>
    </tr>
  );
}
