/**
 * Fills while the app runs: the private `fills` channel shows a local notification for each of the
 * trader's fills and refreshes what a fill changes (orders, fills, balances) through the generated keys.
 */
import { useQueryClient } from "@tanstack/react-query";
import * as Notifications from "expo-notifications";
import { useEffect } from "react";
import { Platform } from "react-native";

import type { Fill } from "../api/generated/model";
import { getLedgerListBalancesQueryKey } from "../api/generated/ledger/ledger";
import { getTradingListFillsQueryKey, getTradingListOrdersQueryKey } from "../api/generated/trading/trading";
import { useLiveChannel } from "./live";
import { formatDecimal } from "./web";

const notifies = Platform.OS !== "web";

if (notifies) {
  Notifications.setNotificationHandler({
    handleNotification: async () => ({
      shouldShowBanner: true,
      shouldShowList: true,
      shouldPlaySound: false,
      shouldSetBadge: false,
    }),
  });
}

export function fillMessage(fill: Fill): { title: string; body: string } {
  const verb = fill.side === "buy" ? "Bought" : "Sold";
  const [base = fill.symbol] = fill.symbol.split("-");
  return {
    title: `${fill.symbol} order filled`,
    body: `${verb} ${formatDecimal(fill.quantity)} ${base} at ${formatDecimal(fill.price)}`,
  };
}

/** Mounted once while signed in. */
export function useFillNotifications(): void {
  const queryClient = useQueryClient();
  useEffect(() => {
    if (notifies) void Notifications.requestPermissionsAsync();
  }, []);
  useLiveChannel("fills", (message) => {
    if (message.kind !== "frame") return;
    for (const queryKey of [getTradingListOrdersQueryKey(), getTradingListFillsQueryKey(), getLedgerListBalancesQueryKey()]) {
      void queryClient.invalidateQueries({ queryKey: [queryKey[0]] });
    }
    if (notifies) {
      void Notifications.scheduleNotificationAsync({ content: fillMessage(message.frame.data as Fill), trigger: null });
    }
  });
}
