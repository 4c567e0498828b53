/** Everything the app reads from its build configuration, in one place (STYLE 14). */
import Constants from "expo-constants";
import { Platform } from "react-native";

const API_PORT = "8000";

function originOf(url: string): string {
  return new URL(url).origin;
}

/**
 * Where the API lives: `EXPO_PUBLIC_API_URL` (or `extra.apiUrl` in app.config.ts) when set; in Expo Go,
 * the development machine that serves the bundle, on the API's port; on the web, the page's own origin.
 */
export function apiOrigin(): string {
  const configured = process.env.EXPO_PUBLIC_API_URL ?? (Constants.expoConfig?.extra?.apiUrl as string | undefined);
  if (configured !== undefined && configured !== "") return originOf(configured);
  if (Platform.OS === "web" && typeof window !== "undefined") return window.location.origin;
  const devHost = Constants.expoConfig?.hostUri?.split(":")[0];
  return `http://${devHost ?? "127.0.0.1"}:${API_PORT}`;
}

/** The WebSocket gateway beside the API. */
export function webSocketUrl(): string {
  return `${apiOrigin().replace(/^http/, "ws")}/ws`;
}
