import { fileURLToPath } from "node:url";

import { tanstackRouter } from "@tanstack/router-plugin/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// The API (FastAPI under Granian) serves the built app itself; this dev server is for work on the
// frontend only and forwards the API and the WebSocket to it, so cookies stay same-origin.
const apiOrigin = process.env.TESSERA_API_ORIGIN ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [
    // Must run before the React plugin: it writes src/routeTree.gen.ts and splits each route's code.
    tanstackRouter({ target: "react", autoCodeSplitting: true }),
    react(),
  ],
  resolve: {
    alias: { "styled-system": fileURLToPath(new URL("./styled-system", import.meta.url)) },
  },
  server: {
    host: "127.0.0.1",
    port: 5173,
    proxy: {
      "/api": { target: apiOrigin, changeOrigin: false },
      "/ws": { target: apiOrigin.replace(/^http/, "ws"), ws: true },
    },
  },
  build: {
    target: "es2022",
    sourcemap: true,
    // Reported by tests/e2e/build-size.test.mjs; the sign-in page's initial JS has a budget there.
    reportCompressedSize: true,
    manifest: true,
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    css: false,
  },
});
