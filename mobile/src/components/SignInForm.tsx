/**
 * Sign-in in two steps: email and password, then, when the API answers `totp-required`, the six-digit
 * code from the authenticator app (or a recovery code). The password is kept only until the code is sent.
 */
import { useState } from "react";
import { View } from "react-native";

import { isProblemError } from "../api/problem";
import type { Credentials } from "../lib/session";
import { Button, ErrorText, Field, Muted, Title } from "./ui";

type Step = "password" | "totp";

export function SignInForm({ onSignIn }: { onSignIn: (credentials: Credentials) => Promise<void> }) {
  const [step, setStep] = useState<Step>("password");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [totp, setTotp] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      await onSignIn(step === "totp" ? { email, password, totp: totp.trim() } : { email: email.trim(), password });
    } catch (failure) {
      if (step === "password" && isProblemError(failure) && failure.slug === "totp-required") setStep("totp");
      else setError(failure);
    } finally {
      setBusy(false);
    }
  };

  if (step === "totp") {
    return (
      <View accessibilityLabel="Two-factor step">
        <Title>Two-factor code</Title>
        <Muted>Enter the 6-digit code from your authenticator app, or a recovery code.</Muted>
        <View style={{ height: 12 }} />
        <Field
          label="Authentication code"
          value={totp}
          onChangeText={setTotp}
          autoComplete="one-time-code"
          textContentType="oneTimeCode"
          keyboardType="number-pad"
          autoFocus
        />
        <ErrorText error={error} />
        <View style={{ height: 12 }} />
        <Button label="Verify" onPress={() => void submit()} disabled={busy || totp.trim() === ""} />
        <View style={{ height: 12 }} />
        <Button
          label="Back"
          tone="plain"
          onPress={() => {
            setStep("password");
            setTotp("");
            setError(null);
          }}
        />
      </View>
    );
  }

  return (
    <View accessibilityLabel="Sign-in step">
      <Title>Sign in to Tessera</Title>
      <Field
        label="Email"
        value={email}
        onChangeText={setEmail}
        autoCapitalize="none"
        autoComplete="email"
        keyboardType="email-address"
        textContentType="username"
      />
      <Field
        label="Password"
        value={password}
        onChangeText={setPassword}
        secureTextEntry
        autoComplete="current-password"
        textContentType="password"
      />
      <ErrorText error={error} />
      <View style={{ height: 12 }} />
      <Button label="Sign in" onPress={() => void submit()} disabled={busy || email.trim() === "" || password === ""} />
    </View>
  );
}
