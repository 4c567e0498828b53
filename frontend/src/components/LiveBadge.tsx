import { css } from "styled-system/css";

import { useLiveStatus } from "../lib/live";

const LABELS = { idle: "offline", connecting: "connecting", live: "live", reconnecting: "reconnecting" } as const;

/** The live connection's state, always visible in the header. */
export function LiveBadge() {
  const status = useLiveStatus();
  const good = status === "live";
  return (
    <span
      role="status"
      aria-live="polite"
      data-status={status}
      className={css({ display: "inline-flex", alignItems: "center", gap: "1.5", fontSize: "xs", color: "fg.muted" })}
    >
      <span
        aria-hidden
        className={css({ width: "2", height: "2", borderRadius: "full" })}
        style={{ background: good ? "var(--colors-buy)" : "var(--colors-warning)" }}
      />
      {LABELS[status]}
    </span>
  );
}
