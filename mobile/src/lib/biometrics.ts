/** The optional biometric unlock: a preference kept in secure storage, checked with the platform's prompt. */
import * as LocalAuthentication from "expo-local-authentication";
import * as SecureStore from "expo-secure-store";
import { Platform } from "react-native";

const KEY = "tessera.biometric-unlock";

/** True when this device can prompt (hardware present and a face or finger enrolled); never on the web. */
export async function biometricsAvailable(): Promise<boolean> {
  if (Platform.OS === "web") return false;
  return (await LocalAuthentication.hasHardwareAsync()) && (await LocalAuthentication.isEnrolledAsync());
}

export async function biometricUnlockEnabled(): Promise<boolean> {
  if (Platform.OS === "web") return false;
  return (await SecureStore.getItemAsync(KEY)) === "on";
}

export async function setBiometricUnlock(enabled: boolean): Promise<void> {
  if (enabled) await SecureStore.setItemAsync(KEY, "on");
  else await SecureStore.deleteItemAsync(KEY);
}

export async function promptBiometricUnlock(): Promise<boolean> {
  const result = await LocalAuthentication.authenticateAsync({ promptMessage: "Unlock Tessera" });
  return result.success;
}
