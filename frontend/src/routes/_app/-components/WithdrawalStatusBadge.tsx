import { css, cx } from "styled-system/css";

import type { WithdrawalStatus } from "../../../api/generated/model";

const TONE = {
  neutral: css({ color: "fg.default", borderColor: "border.default" }),
  waiting: css({ color: "warning", borderColor: "warning" }),
  done: css({ color: "buy", borderColor: "buy" }),
  stopped: css({ color: "danger", borderColor: "danger" }),
} as const;

const TONES: Record<WithdrawalStatus, keyof typeof TONE> = {
  requested: "neutral",
  pending_review: "waiting",
  approved: "neutral",
  signed: "neutral",
  broadcast: "neutral",
  confirmed: "done",
  failed: "stopped",
  rejected: "stopped",
};

/** Statuses after which nothing changes any more. */
export const FINAL_WITHDRAWAL_STATUSES: ReadonlySet<WithdrawalStatus> = new Set(["confirmed", "failed", "rejected"]);

export function WithdrawalStatusBadge({ status }: { status: WithdrawalStatus }) {
  return (
    <span className={cx(css({ display: "inline-block", px: "2", py: "0.5", borderRadius: "full", fontSize: "xs", fontWeight: "semibold", borderWidth: "1px", whiteSpace: "nowrap" }), TONE[TONES[status]])}>
      {status.replace("_", " ")}
    </span>
  );
}
