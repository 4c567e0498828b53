import { Redirect, Stack } from "expo-router";
import { ActivityIndicator, View } from "react-native";

import { useFillNotifications } from "../../src/lib/notifications";
import { useSession } from "../../src/lib/session";
import { colors } from "../../src/theme";

function SignedIn() {
  useFillNotifications();
  return (
    <Stack
      screenOptions={{
        headerStyle: { backgroundColor: colors.surface },
        headerTintColor: colors.text,
        contentStyle: { backgroundColor: colors.background },
      }}
    >
      <Stack.Screen name="(tabs)" options={{ headerShown: false }} />
      <Stack.Screen name="market/[symbol]" options={{ title: "Market" }} />
    </Stack>
  );
}

export default function AppLayout() {
  const { status } = useSession();
  if (status === "loading") {
    return (
      <View style={{ flex: 1, justifyContent: "center", backgroundColor: colors.background }}>
        <ActivityIndicator color={colors.muted} />
      </View>
    );
  }
  if (status !== "signed-in") return <Redirect href="/sign-in" />;
  return <SignedIn />;
}
