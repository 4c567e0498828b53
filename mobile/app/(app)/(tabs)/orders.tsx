import { useQueryClient } from "@tanstack/react-query";
import { Text, View } from "react-native";

import type { Order } from "../../../src/api/generated/model";
import {
  getTradingListFillsQueryKey,
  getTradingListOrdersQueryKey,
  useTradingCancelOrder,
  useTradingListFills,
  useTradingListOrders,
} from "../../../src/api/generated/trading/trading";
import { Screen } from "../../../src/components/Screen";
import { Button, Card, ErrorText, Muted, Title, styles as ui } from "../../../src/components/ui";
import { useLiveChannel } from "../../../src/lib/live";
import { formatDecimal } from "../../../src/lib/web";
import { colors } from "../../../src/theme";

const OPEN = { status: ["new", "open", "partially_filled"] } as const satisfies Parameters<typeof useTradingListOrders>[0];

function OpenOrder({ order }: { order: Order }) {
  const queryClient = useQueryClient();
  const cancel = useTradingCancelOrder({
    mutation: { onSettled: () => queryClient.invalidateQueries({ queryKey: [getTradingListOrdersQueryKey()[0]] }) },
  });
  return (
    <Card label={`Order ${order.id}`}>
      <View style={ui.row}>
        <Text style={[ui.text, { color: order.side === "buy" ? colors.buy : colors.sell, fontWeight: "700" }]}>
          {order.side.toUpperCase()} {order.symbol}
        </Text>
        <Muted>{order.status.replace("_", " ")}</Muted>
      </View>
      <Text style={ui.mono}>
        {formatDecimal(order.filled_quantity)} / {formatDecimal(order.quantity)} at {order.type === "limit" ? formatDecimal(order.price) : "market"}
      </Text>
      <ErrorText error={cancel.error} />
      <View style={{ height: 8 }} />
      <Button label={`Cancel order ${order.id}`} tone="plain" disabled={cancel.isPending} onPress={() => cancel.mutate({ orderId: order.id })} />
    </Card>
  );
}

export default function OrdersScreen() {
  const queryClient = useQueryClient();
  const orders = useTradingListOrders(OPEN);
  const fills = useTradingListFills({ limit: 50 });
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: [getTradingListOrdersQueryKey()[0]] });
    void queryClient.invalidateQueries({ queryKey: [getTradingListFillsQueryKey()[0]] });
  };
  useLiveChannel("orders", (message) => {
    if (message.kind === "frame" || message.kind === "resync") refresh();
  });
  return (
    <Screen refreshing={orders.isRefetching || fills.isRefetching} onRefresh={refresh}>
      <Title>Open orders</Title>
      <ErrorText error={orders.error} />
      {orders.data?.items.length === 0 && <Muted>No open orders.</Muted>}
      {orders.data?.items.map((order) => (
        <OpenOrder key={order.id} order={order} />
      ))}
      <Title>Fills</Title>
      <ErrorText error={fills.error} />
      {fills.data?.items.length === 0 && <Muted>No fills yet.</Muted>}
      {fills.data?.items.map((fill) => (
        <Card key={`${fill.trade_id}-${fill.order_id}`}>
          <View style={ui.row}>
            <Text style={[ui.text, { color: fill.side === "buy" ? colors.buy : colors.sell }]}>
              {fill.side === "buy" ? "Bought" : "Sold"} {formatDecimal(fill.quantity)} {fill.symbol}
            </Text>
            <Text style={ui.mono}>{formatDecimal(fill.price)}</Text>
          </View>
          <Muted>
            Fee {formatDecimal(fill.fee)} {fill.fee_asset} · {fill.liquidity} · {new Date(fill.time).toLocaleString()}
          </Muted>
        </Card>
      ))}
    </Screen>
  );
}
