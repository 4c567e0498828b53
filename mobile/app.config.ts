import type { ConfigContext, ExpoConfig } from "expo/config";

// `EXPO_PUBLIC_API_URL` points the app at a Tessera API (e.g. http://192.168.1.20:8000). Unset, the app
// asks the machine serving the bundle in Expo Go (port 8000), or its own origin on the web (src/env.ts).
export default ({ config }: ConfigContext): ExpoConfig => ({
  ...config,
  name: "Tessera",
  slug: "tessera",
  scheme: "tessera",
  version: "0.1.0",
  orientation: "portrait",
  userInterfaceStyle: "dark",
  ios: { bundleIdentifier: "test.tessera.app", supportsTablet: true },
  android: { package: "test.tessera.app" },
  web: { bundler: "metro", output: "single" },
  plugins: [
    "expo-router",
    "expo-secure-store",
    ["expo-local-authentication", { faceIDPermission: "Unlock Tessera with Face ID." }],
    "expo-notifications",
  ],
  extra: { apiUrl: process.env.EXPO_PUBLIC_API_URL ?? "" },
});
