/** Every signed-in screen: the offline banner on top, then a scroll view with pull to refresh. */
import type { ReactNode } from "react";
import { RefreshControl, ScrollView, StyleSheet, Text, View } from "react-native";

import { useLiveStatus } from "../lib/live";
import { colors, space } from "../theme";

export function OfflineBanner() {
  const status = useLiveStatus();
  if (status !== "reconnecting") return null;
  return (
    <View accessible accessibilityRole="alert" accessibilityLiveRegion="polite" style={styles.banner}>
      <Text style={styles.bannerText}>Offline: prices may be stale. Reconnecting…</Text>
    </View>
  );
}

export function LiveBadge() {
  const status = useLiveStatus();
  const live = status === "live";
  return (
    <Text accessibilityRole="text" accessibilityLabel={`Market data ${status}`} style={[styles.badge, { color: live ? colors.buy : colors.warning }]}>
      {live ? "● Live" : status === "reconnecting" ? "● Offline" : "● Connecting"}
    </Text>
  );
}

export function Screen({
  children,
  refreshing,
  onRefresh,
}: {
  children: ReactNode;
  refreshing: boolean;
  onRefresh: () => void;
}) {
  return (
    <View style={styles.root}>
      <OfflineBanner />
      <ScrollView
        contentContainerStyle={styles.content}
        refreshControl={<RefreshControl refreshing={refreshing} onRefresh={onRefresh} tintColor={colors.muted} />}
      >
        {children}
      </ScrollView>
    </View>
  );
}

const styles = StyleSheet.create({
  root: { flex: 1, backgroundColor: colors.background },
  content: { padding: space.lg },
  banner: { backgroundColor: colors.warning, paddingVertical: space.sm, paddingHorizontal: space.lg },
  bannerText: { color: "#000000", fontWeight: "600" },
  badge: { fontSize: 13, fontWeight: "600" },
});
