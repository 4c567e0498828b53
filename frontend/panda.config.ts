import { defineConfig } from "@pandacss/dev";

// Tokens for both themes: components use semantic names (bg.canvas, fg.muted, buy, sell) only; the
// `dark` class on <html> switches every value (see src/lib/theme.ts).
export default defineConfig({
  preflight: true,
  include: ["./src/**/*.{ts,tsx}"],
  exclude: ["./src/api/generated/**"],
  outdir: "styled-system",
  jsxFramework: "react",
  conditions: {
    extend: {
      dark: ".dark &",
      light: ".light &",
    },
  },
  theme: {
    extend: {
      tokens: {
        fonts: {
          body: { value: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" },
          mono: { value: "ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace" },
        },
      },
      semanticTokens: {
        colors: {
          bg: {
            canvas: { value: { base: "{colors.gray.50}", _dark: "{colors.neutral.950}" } },
            surface: { value: { base: "{colors.white}", _dark: "{colors.neutral.900}" } },
            muted: { value: { base: "{colors.gray.100}", _dark: "{colors.neutral.800}" } },
          },
          fg: {
            default: { value: { base: "{colors.gray.900}", _dark: "{colors.neutral.50}" } },
            muted: { value: { base: "{colors.gray.600}", _dark: "{colors.neutral.400}" } },
            onAccent: { value: { base: "{colors.white}", _dark: "{colors.white}" } },
            // Text on a buy or sell fill: the dark theme's fills are light, so its text is dark.
            onSide: { value: { base: "{colors.white}", _dark: "{colors.neutral.950}" } },
          },
          border: {
            default: { value: { base: "{colors.gray.200}", _dark: "{colors.neutral.700}" } },
          },
          accent: {
            default: { value: { base: "{colors.indigo.700}", _dark: "{colors.indigo.600}" } },
            hover: { value: { base: "{colors.indigo.800}", _dark: "{colors.indigo.700}" } },
            // Accent-coloured text and links, readable on the surface of either theme.
            text: { value: { base: "{colors.indigo.700}", _dark: "{colors.indigo.300}" } },
          },
          buy: { value: { base: "{colors.green.700}", _dark: "{colors.green.400}" } },
          sell: { value: { base: "{colors.red.700}", _dark: "{colors.red.400}" } },
          danger: { value: { base: "{colors.red.700}", _dark: "{colors.red.300}" } },
          warning: { value: { base: "{colors.amber.700}", _dark: "{colors.amber.300}" } },
          success: { value: { base: "{colors.green.700}", _dark: "{colors.green.400}" } },
        },
      },
    },
  },
  globalCss: {
    "html, body": { bg: "bg.canvas", color: "fg.default", fontFamily: "body" },
    ":focus-visible": { outline: "2px solid", outlineColor: "accent.default", outlineOffset: "2px" },
  },
});
