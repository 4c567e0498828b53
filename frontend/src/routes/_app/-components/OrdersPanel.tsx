import { Dialog } from "@ark-ui/react/dialog";
import { Portal } from "@ark-ui/react/portal";
import { Tabs } from "@ark-ui/react/tabs";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { css } from "styled-system/css";

import { getLedgerListBalancesQueryKey } from "../../../api/generated/ledger/ledger";
import type { Fill, Order } from "../../../api/generated/model";
import {
  getTradingListFillsQueryKey,
  getTradingListFillsQueryOptions,
  getTradingListOrdersQueryKey,
  getTradingListOrdersQueryOptions,
  useTradingCancelAllOrders,
  useTradingCancelOrder,
} from "../../../api/generated/trading/trading";
import { toaster } from "../../../components/toaster";
import { Button, Card, ErrorNotice, tableClass } from "../../../components/ui";
import { formatDecimal } from "../../../lib/decimal";
import { useLiveChannel } from "../../../lib/live";

const OPEN_STATUSES: NonNullable<Parameters<typeof getTradingListOrdersQueryOptions>[0]>["status"] = ["new", "open", "partially_filled"];

const tabTrigger = css({ px: "3", py: "1.5", fontSize: "sm", cursor: "pointer", "&[data-selected]": { fontWeight: "semibold", borderBottomWidth: "2px", borderColor: "accent.default" } });

/** Open orders (with cancel), order history and fills of this market; the private channels keep them fresh. */
export function OrdersPanel({ symbol }: { symbol: string }) {
  const queryClient = useQueryClient();
  const open = useQuery(getTradingListOrdersQueryOptions({ symbol, status: OPEN_STATUSES }));
  const history = useQuery(getTradingListOrdersQueryOptions({ symbol }));
  const fills = useQuery(getTradingListFillsQueryOptions({ symbol }));
  const cancel = useTradingCancelOrder();
  const cancelAll = useTradingCancelAllOrders();

  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: getTradingListOrdersQueryKey() }),
      queryClient.invalidateQueries({ queryKey: getTradingListFillsQueryKey() }),
      queryClient.invalidateQueries({ queryKey: getLedgerListBalancesQueryKey() }),
    ]);
  useLiveChannel("orders", (message) => {
    if (message.kind !== "error") void refresh();
  });
  useLiveChannel("fills", (message) => {
    if (message.kind !== "frame") return;
    const fill = message.frame.data as Partial<Fill>;
    if (fill.symbol === symbol) toaster.create({ type: "info", title: "Order filled", description: `${fill.side ?? ""} ${fill.quantity ?? ""} @ ${fill.price ?? ""}` });
    void refresh();
  });

  const openOrders = open.data?.items ?? [];
  return (
    <Card>
      <Tabs.Root defaultValue="open" lazyMount>
        <Tabs.List className={css({ display: "flex", gap: "1", borderBottomWidth: "1px", borderColor: "border.default", mb: "2" })}>
          <Tabs.Trigger value="open" className={tabTrigger}>Open orders ({openOrders.length})</Tabs.Trigger>
          <Tabs.Trigger value="history" className={tabTrigger}>Order history</Tabs.Trigger>
          <Tabs.Trigger value="fills" className={tabTrigger}>Fills</Tabs.Trigger>
        </Tabs.List>
        <Tabs.Content value="open">
          <ErrorNotice error={cancel.error ?? cancelAll.error} />
          <OrdersTable
            orders={openOrders}
            action={(order) => (
              <Button variant="secondary" disabled={cancel.isPending} onClick={() => void cancel.mutateAsync({ orderId: order.id }).then(refresh, refresh)} aria-label={`Cancel order ${order.id}`}>
                Cancel
              </Button>
            )}
          />
          {openOrders.length > 0 ? (
            <Dialog.Root role="alertdialog">
              <Dialog.Trigger className={css({ mt: "2", fontSize: "sm", color: "danger", cursor: "pointer" })}>Cancel all…</Dialog.Trigger>
              <Portal>
                <Dialog.Backdrop className={css({ position: "fixed", inset: "0", bg: "black/50" })} />
                <Dialog.Positioner className={css({ position: "fixed", inset: "0", display: "grid", placeItems: "center" })}>
                  <Dialog.Content className={css({ bg: "bg.surface", color: "fg.default", p: "6", borderRadius: "lg", maxWidth: "sm" })}>
                    <Dialog.Title className={css({ fontWeight: "bold", mb: "2" })}>Cancel all {symbol} orders?</Dialog.Title>
                    <Dialog.Description className={css({ fontSize: "sm", mb: "4" })}>Your {openOrders.length} open orders leave the book and their holds are released.</Dialog.Description>
                    <div className={css({ display: "flex", gap: "2", justifyContent: "flex-end" })}>
                      <Dialog.CloseTrigger asChild>
                        <Button variant="secondary">Keep them</Button>
                      </Dialog.CloseTrigger>
                      <Dialog.CloseTrigger asChild>
                        <Button variant="sell" onClick={() => void cancelAll.mutateAsync({ params: { symbol } }).then(refresh, refresh)}>
                          Cancel all
                        </Button>
                      </Dialog.CloseTrigger>
                    </div>
                  </Dialog.Content>
                </Dialog.Positioner>
              </Portal>
            </Dialog.Root>
          ) : null}
        </Tabs.Content>
        <Tabs.Content value="history">
          <OrdersTable orders={history.data?.items ?? []} />
        </Tabs.Content>
        <Tabs.Content value="fills">
          <table className={tableClass} aria-label="Fills">
            <thead>
              <tr>
                <th>Time</th>
                <th>Side</th>
                <th className="num">Price</th>
                <th className="num">Quantity</th>
                <th className="num">Fee</th>
                <th>Role</th>
              </tr>
            </thead>
            <tbody>
              {(fills.data?.items ?? []).map((fill) => (
                <tr key={`${fill.trade_id}-${fill.order_id}`}>
                  <td>{new Date(fill.time).toLocaleString()}</td>
                  <td style={{ color: `var(--colors-${fill.side})` }}>{fill.side}</td>
                  <td className="num">{formatDecimal(fill.price)}</td>
                  <td className="num">{formatDecimal(fill.quantity)}</td>
                  <td className="num">
                    {formatDecimal(fill.fee)} {fill.fee_asset}
                  </td>
                  <td>{fill.liquidity}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Tabs.Content>
      </Tabs.Root>
    </Card>
  );
}

function OrdersTable({ orders, action }: { orders: Order[]; action?: (order: Order) => React.ReactNode }) {
  if (orders.length === 0) return <p className={css({ color: "fg.muted", fontSize: "sm", py: "2" })}>No orders.</p>;
  return (
    <table className={tableClass} aria-label="Orders">
      <thead>
        <tr>
          <th>Created</th>
          <th>Side</th>
          <th>Type</th>
          <th className="num">Price</th>
          <th className="num">Quantity</th>
          <th className="num">Filled</th>
          <th>Status</th>
          {action ? <th /> : null}
        </tr>
      </thead>
      <tbody>
        {orders.map((order) => (
          <tr key={order.id}>
            <td>{new Date(order.created_at).toLocaleString()}</td>
            <td style={{ color: `var(--colors-${order.side})` }}>{order.side}</td>
            <td>{order.type}</td>
            <td className="num">{formatDecimal(order.price ?? order.average_price)}</td>
            <td className="num">{formatDecimal(order.quantity ?? order.quote_budget)}</td>
            <td className="num">{formatDecimal(order.filled_quantity)}</td>
            <td>{order.status.replace("_", " ")}</td>
            {action ? <td>{action(order)}</td> : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
