import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Switch, Text, View } from "react-native";

import { getAuthMeQueryKey, useAuthMe } from "../../../src/api/generated/auth/auth";
import { Screen } from "../../../src/components/Screen";
import { Button, Card, ErrorText, Muted, styles as ui } from "../../../src/components/ui";
import { biometricsAvailable, biometricUnlockEnabled, promptBiometricUnlock, setBiometricUnlock } from "../../../src/lib/biometrics";
import { useSession } from "../../../src/lib/session";
import { apiOrigin } from "../../../src/env";

export default function SettingsScreen() {
  const queryClient = useQueryClient();
  const me = useAuthMe();
  const { signOut } = useSession();
  const [canUseBiometrics, setCanUseBiometrics] = useState(false);
  const [biometric, setBiometric] = useState(false);

  useEffect(() => {
    void biometricsAvailable().then(setCanUseBiometrics);
    void biometricUnlockEnabled().then(setBiometric);
  }, []);

  const toggleBiometric = async (next: boolean) => {
    // Turning it on proves the prompt works here first, so nobody locks themselves out.
    if (next && !(await promptBiometricUnlock())) return;
    await setBiometricUnlock(next);
    setBiometric(next);
  };

  return (
    <Screen refreshing={me.isRefetching} onRefresh={() => void queryClient.invalidateQueries({ queryKey: getAuthMeQueryKey() })}>
      <Card label="Account">
        <ErrorText error={me.error} />
        <Text style={[ui.text, { fontWeight: "700" }]}>{me.data?.display_name ?? "…"}</Text>
        <Muted>{me.data?.email}</Muted>
        <Muted>Two-factor authentication {me.data?.totp_enabled ? "on" : "off (turn it on in the web app)"}</Muted>
      </Card>
      <Card label="Biometric unlock">
        <View style={ui.row}>
          <Text style={ui.text}>Unlock with Face ID or fingerprint</Text>
          <Switch
            accessibilityLabel="Biometric unlock"
            value={biometric}
            disabled={!canUseBiometrics}
            onValueChange={(next) => void toggleBiometric(next)}
          />
        </View>
        {!canUseBiometrics && <Muted>Not available on this device.</Muted>}
      </Card>
      <Card label="Server">
        <Muted>Connected to {apiOrigin()}</Muted>
      </Card>
      <Button label="Sign out" tone="sell" onPress={() => void signOut()} />
    </Screen>
  );
}
