/** Small building blocks every screen shares: text styles, buttons, fields, cards, problem messages. */
import type { ReactNode } from "react";
import { Pressable, StyleSheet, Text, TextInput, View, type TextInputProps } from "react-native";

import { isProblemError } from "../api/problem";
import { colors, space } from "../theme";

export function Title({ children }: { children: ReactNode }) {
  return (
    <Text accessibilityRole="header" style={styles.title}>
      {children}
    </Text>
  );
}

export function Muted({ children }: { children: ReactNode }) {
  return <Text style={styles.muted}>{children}</Text>;
}

export function Card({ children, label }: { children: ReactNode; label?: string }) {
  return (
    <View style={styles.card} accessibilityLabel={label}>
      {children}
    </View>
  );
}

export function Button({
  label,
  onPress,
  disabled = false,
  tone = "accent",
}: {
  label: string;
  onPress: () => void;
  disabled?: boolean;
  tone?: "accent" | "buy" | "sell" | "plain";
}) {
  const background = tone === "plain" ? colors.surface : colors[tone];
  return (
    <Pressable
      accessibilityRole="button"
      accessibilityState={{ disabled }}
      disabled={disabled}
      onPress={onPress}
      style={({ pressed }) => [styles.button, { backgroundColor: background, opacity: disabled ? 0.5 : pressed ? 0.8 : 1 }]}
    >
      <Text style={styles.buttonText}>{label}</Text>
    </Pressable>
  );
}

export function Field({ label, error, ...input }: TextInputProps & { label: string; error?: string | undefined }) {
  return (
    <View style={styles.field}>
      <Text style={styles.label}>{label}</Text>
      <TextInput
        accessibilityLabel={label}
        placeholderTextColor={colors.muted}
        style={[styles.input, error !== undefined && { borderColor: colors.sell }]}
        {...input}
      />
      {error !== undefined && (
        <Text accessibilityRole="alert" style={styles.error}>
          {error}
        </Text>
      )}
    </View>
  );
}

/** The message to show for any failure; a problem from the API says it best. */
export function errorMessage(error: unknown): string {
  if (isProblemError(error)) return error.problem.detail || error.problem.title;
  return error instanceof Error ? error.message : "Something went wrong.";
}

export function ErrorText({ error }: { error: unknown }) {
  if (error === null || error === undefined) return null;
  return (
    <Text accessibilityRole="alert" style={styles.error}>
      {errorMessage(error)}
    </Text>
  );
}

export const styles = StyleSheet.create({
  title: { color: colors.text, fontSize: 22, fontWeight: "700", marginBottom: space.md },
  muted: { color: colors.muted, fontSize: 13 },
  card: {
    backgroundColor: colors.surface,
    borderColor: colors.border,
    borderWidth: 1,
    borderRadius: 10,
    padding: space.md,
    marginBottom: space.md,
  },
  button: { borderRadius: 8, paddingVertical: space.md, paddingHorizontal: space.lg, alignItems: "center" },
  buttonText: { color: "#ffffff", fontWeight: "700", fontSize: 15 },
  field: { marginBottom: space.md },
  label: { color: colors.muted, fontSize: 13, marginBottom: space.xs },
  input: {
    color: colors.text,
    backgroundColor: colors.background,
    borderColor: colors.border,
    borderWidth: 1,
    borderRadius: 8,
    paddingHorizontal: space.md,
    paddingVertical: space.sm,
    fontSize: 16,
  },
  error: { color: colors.sell, fontSize: 13, marginTop: space.xs },
  row: { flexDirection: "row", justifyContent: "space-between", alignItems: "center" },
  text: { color: colors.text, fontSize: 15 },
  mono: { color: colors.text, fontSize: 14, fontVariant: ["tabular-nums"] },
});
