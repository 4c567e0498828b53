/** The app's colours and spacing: a dark trading palette with AA contrast for text on `background`. */
export const colors = {
  background: "#0d1117",
  surface: "#161b22",
  border: "#30363d",
  text: "#e6edf3",
  muted: "#9ba5b0",
  accent: "#4c9aff",
  buy: "#3fb950",
  sell: "#f85149",
  warning: "#d29922",
} as const;

export const space = { xs: 4, sm: 8, md: 12, lg: 16, xl: 24 } as const;
