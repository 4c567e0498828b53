import { useQueryClient } from "@tanstack/react-query";
import { Text, View } from "react-native";

import type { WithdrawalStatus } from "../../../src/api/generated/model";
import { getWalletsListWithdrawalsQueryKey, useWalletsListWithdrawals } from "../../../src/api/generated/wallets/wallets";
import { Screen } from "../../../src/components/Screen";
import { Card, ErrorText, Muted, styles as ui } from "../../../src/components/ui";
import { formatDecimal } from "../../../src/lib/web";
import { colors } from "../../../src/theme";

const STATUS_COLOURS: Partial<Record<WithdrawalStatus, string>> = {
  confirmed: colors.buy,
  failed: colors.sell,
  rejected: colors.sell,
  pending_review: colors.warning,
};

export default function WithdrawalsScreen() {
  const queryClient = useQueryClient();
  const withdrawals = useWalletsListWithdrawals();
  return (
    <Screen
      refreshing={withdrawals.isRefetching}
      onRefresh={() => void queryClient.invalidateQueries({ queryKey: [getWalletsListWithdrawalsQueryKey()[0]] })}
    >
      <Card>
        <Muted>Requesting a withdrawal needs the travel-rule form and a two-factor code: use the Tessera web app. Its progress shows here.</Muted>
      </Card>
      <ErrorText error={withdrawals.error} />
      {withdrawals.data?.items.length === 0 && <Muted>No withdrawals yet.</Muted>}
      {withdrawals.data?.items.map((withdrawal) => (
        <Card key={withdrawal.id} label={`Withdrawal ${withdrawal.id}`}>
          <View style={ui.row}>
            <Text style={[ui.text, { fontWeight: "700" }]}>
              {formatDecimal(withdrawal.amount)} {withdrawal.asset}
            </Text>
            <Text style={[ui.text, { color: STATUS_COLOURS[withdrawal.status] ?? colors.text }]}>{withdrawal.status.replace("_", " ")}</Text>
          </View>
          <Muted>
            To {withdrawal.destination} on chain {withdrawal.chain_id}
          </Muted>
          {withdrawal.tx_hash !== null && <Muted>Transaction {withdrawal.tx_hash}</Muted>}
          {withdrawal.failure_reason !== null && <Muted>{withdrawal.failure_reason}</Muted>}
        </Card>
      ))}
    </Screen>
  );
}
