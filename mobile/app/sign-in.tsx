import { Redirect } from "expo-router";
import { useState } from "react";
import { KeyboardAvoidingView, Platform, StyleSheet, View } from "react-native";

import { SignInForm } from "../src/components/SignInForm";
import { Button, Muted, Title } from "../src/components/ui";
import { useSession } from "../src/lib/session";
import { colors, space } from "../src/theme";

export default function SignInScreen() {
  const session = useSession();
  const [unlockFailed, setUnlockFailed] = useState(false);
  if (session.status === "signed-in") return <Redirect href="/" />;
  return (
    <KeyboardAvoidingView behavior={Platform.OS === "ios" ? "padding" : undefined} style={styles.root}>
      <View style={styles.panel}>
        {session.status === "locked" ? (
          <View>
            <Title>Tessera is locked</Title>
            {unlockFailed && <Muted>That did not work. Try again, or sign out to use your password.</Muted>}
            <View style={{ height: space.md }} />
            <Button label="Unlock" onPress={() => void session.unlock().then((ok) => setUnlockFailed(!ok))} />
            <View style={{ height: space.md }} />
            <Button label="Sign out" tone="plain" onPress={() => void session.signOut()} />
          </View>
        ) : (
          <SignInForm onSignIn={session.signIn} />
        )}
      </View>
    </KeyboardAvoidingView>
  );
}

const styles = StyleSheet.create({
  root: { flex: 1, backgroundColor: colors.background, justifyContent: "center" },
  panel: { padding: space.xl, width: "100%", maxWidth: 480, alignSelf: "center" },
});
