/**
 * The session's tokens: in the platform keystore through expo-secure-store on iOS and Android, and only
 * in memory on the web, where secure-store is unavailable (a reload there signs out).
 */
import * as SecureStore from "expo-secure-store";
import { Platform } from "react-native";

export interface SessionTokens {
  accessToken: string;
  refreshToken: string;
}

const KEY = "tessera.session";
const persistent = Platform.OS !== "web";

// Read once from the keystore, then kept here so requests never wait on it.
let cached: SessionTokens | null | undefined;
const listeners = new Set<() => void>();

function parse(text: string | null): SessionTokens | null {
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as Partial<SessionTokens>;
    if (typeof value.accessToken === "string" && typeof value.refreshToken === "string") {
      return { accessToken: value.accessToken, refreshToken: value.refreshToken };
    }
  } catch {
    // A damaged entry is no session.
  }
  return null;
}

export async function readTokens(): Promise<SessionTokens | null> {
  if (cached === undefined) cached = persistent ? parse(await SecureStore.getItemAsync(KEY)) : null;
  return cached;
}

export async function writeTokens(tokens: SessionTokens | null): Promise<void> {
  cached = tokens;
  if (persistent) {
    if (tokens === null) await SecureStore.deleteItemAsync(KEY);
    else await SecureStore.setItemAsync(KEY, JSON.stringify(tokens));
  }
  for (const listener of listeners) listener();
}

/** The tokens as last read or written (undefined before the first read); for the WebSocket's sign-in. */
export function currentTokens(): SessionTokens | null | undefined {
  return cached;
}

/** Hears every sign-in, refresh and sign-out (the session provider and the live socket follow it). */
export function onTokensChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
