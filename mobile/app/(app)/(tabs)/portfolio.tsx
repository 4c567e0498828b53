import { useQueryClient } from "@tanstack/react-query";
import { Text, View } from "react-native";

import { getLedgerListBalancesQueryKey, useLedgerListBalances } from "../../../src/api/generated/ledger/ledger";
import { Screen } from "../../../src/components/Screen";
import { Card, ErrorText, Muted, styles as ui } from "../../../src/components/ui";
import { useLiveChannel } from "../../../src/lib/live";
import { formatDecimal } from "../../../src/lib/web";

export default function PortfolioScreen() {
  const queryClient = useQueryClient();
  const balances = useLedgerListBalances();
  const refresh = () => void queryClient.invalidateQueries({ queryKey: getLedgerListBalancesQueryKey() });
  useLiveChannel("balances", (message) => {
    if (message.kind === "frame" || message.kind === "resync") refresh();
  });
  return (
    <Screen refreshing={balances.isRefetching} onRefresh={refresh}>
      <ErrorText error={balances.error} />
      {balances.data?.length === 0 && <Muted>No balances yet. Fund the account from the web app.</Muted>}
      {balances.data?.map((balance) => (
        <Card key={balance.asset} label={`${balance.asset} balance`}>
          <View style={ui.row}>
            <Text style={[ui.text, { fontWeight: "700" }]}>{balance.asset}</Text>
            <Text style={ui.mono}>{formatDecimal(balance.available)}</Text>
          </View>
          <Muted>Held by orders and withdrawals: {formatDecimal(balance.held)}</Muted>
        </Card>
      ))}
    </Screen>
  );
}
