import { useQueryClient } from "@tanstack/react-query";
import { router } from "expo-router";
import { useState } from "react";
import { Pressable, Text, View } from "react-native";

import { getMarketsListMarketsQueryKey, useMarketsListMarkets } from "../../../src/api/generated/markets/markets";
import type { Market, Ticker } from "../../../src/api/generated/model";
import { Screen } from "../../../src/components/Screen";
import { Card, ErrorText, Muted, styles as ui } from "../../../src/components/ui";
import { useLiveChannel } from "../../../src/lib/live";
import { decimalPlaces, formatDecimal, parseSignedDecimal } from "../../../src/lib/web";
import { colors } from "../../../src/theme";

function MarketRow({ market }: { market: Market }) {
  const [ticker, setTicker] = useState<Pick<Ticker, "last" | "change_24h">>({ last: market.last, change_24h: market.change_24h });
  useLiveChannel(`ticker:${market.symbol}`, (message) => {
    if (message.kind === "frame") setTicker(message.frame.data as Ticker);
  });
  const change = parseSignedDecimal(ticker.change_24h);
  const up = change === undefined || change.gte(0);
  return (
    <Pressable
      accessibilityRole="link"
      accessibilityLabel={`${market.symbol} ${ticker.last ?? "no trades"}`}
      onPress={() => router.push({ pathname: "/market/[symbol]", params: { symbol: market.symbol } })}
    >
      <Card>
        <View style={ui.row}>
          <Text style={[ui.text, { fontWeight: "700" }]}>
            {market.base_asset}/{market.quote_asset}
          </Text>
          <Text style={ui.mono} testID={`last-${market.symbol}`}>
            {formatDecimal(ticker.last, decimalPlaces(market.tick_size))}
          </Text>
        </View>
        <View style={ui.row}>
          <Muted>Vol {formatDecimal(market.volume_24h)}</Muted>
          <Text style={[ui.mono, { color: up ? colors.buy : colors.sell }]}>
            {change === undefined ? "—" : `${change.times(100).toFixed(2)}%`}
          </Text>
        </View>
      </Card>
    </Pressable>
  );
}

export default function MarketsScreen() {
  const queryClient = useQueryClient();
  const markets = useMarketsListMarkets();
  return (
    <Screen
      refreshing={markets.isRefetching}
      onRefresh={() => void queryClient.invalidateQueries({ queryKey: getMarketsListMarketsQueryKey() })}
    >
      <ErrorText error={markets.error} />
      {markets.isPending && <Muted>Loading markets…</Muted>}
      {markets.data?.items.map((market) => (
        <MarketRow key={market.symbol} market={market} />
      ))}
    </Screen>
  );
}
