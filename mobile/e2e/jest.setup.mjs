// Jest's global setup for the integration tests: the API they call, whose URL the app's env reads.
import { startMobileBackend } from "./backend.mjs";

export default async function setup() {
  const backend = await startMobileBackend();
  globalThis.tesseraBackend = backend;
  process.env.EXPO_PUBLIC_API_URL = backend.origin;
}
