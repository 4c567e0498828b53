import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { css, cx } from "styled-system/css";

import type { HaltState } from "../../../api/generated/model";
import { getTradingListHaltsQueryKey, useTradingSetHalt } from "../../../api/generated/trading/trading";
import { toaster } from "../../../components/toaster";
import { Button, ErrorNotice, rowInputClass } from "../../../components/ui";

/** The scope of the switch that halts every market at once. */
export const GLOBAL_SCOPE = "global";

/** The switch of one scope (a market's symbol, or `GLOBAL_SCOPE`) as `GET /api/v1/admin/trading/halts` reports
 * it; undefined when it was never switched. */
export function haltOf(halts: readonly HaltState[], scope: string): HaltState | undefined {
  return halts.find((halt) => halt.scope === scope);
}

/** One switch (a market's, or every market's when `symbol` is null): its state, and halt or resume. */
export function KillSwitch({ label, symbol, state }: { label: string; symbol: string | null; state: HaltState | undefined }) {
  const queryClient = useQueryClient();
  const setHalt = useTradingSetHalt();
  const [reason, setReason] = useState("");
  const halted = state?.halted === true;

  async function flip() {
    try {
      const updated = await setHalt.mutateAsync({ data: { symbol, halted: !halted, reason: reason.trim() || null } });
      toaster.create({ type: updated.halted ? "info" : "success", title: `${label.charAt(0).toUpperCase()}${label.slice(1)} ${updated.halted ? "halted" : "trading again"}`, description: updated.reason ?? undefined });
      setReason("");
    } catch {
      return; // shown below the switch
    } finally {
      await queryClient.invalidateQueries({ queryKey: getTradingListHaltsQueryKey() });
    }
  }

  return (
    <div className={css({ display: "flex", flexDirection: "column", gap: "1" })}>
      <div className={css({ display: "flex", gap: "2", alignItems: "center", flexWrap: "wrap" })}>
        <span role="status" aria-label={`${label} kill switch`} className={css({ fontWeight: "semibold", fontSize: "sm", color: halted ? "danger" : "success", minWidth: "16" })}>
          {halted ? "Halted" : "Trading"}
        </span>
        <input
          aria-label={`Reason to ${halted ? "resume" : "halt"} ${label}`}
          placeholder={halted ? "Reason (optional)" : "Reason"}
          value={reason}
          maxLength={500}
          onChange={(event) => setReason(event.target.value)}
          className={cx(rowInputClass, css({ minWidth: "48" }))}
        />
        {/* A halt needs its reason; resuming may simply end it. */}
        <Button variant={halted ? "buy" : "sell"} disabled={setHalt.isPending || (!halted && reason.trim() === "")} onClick={() => void flip()}>
          {halted ? `Resume ${label}` : `Halt ${label}`}
        </Button>
      </div>
      {state ? (
        <span className={css({ fontSize: "xs", color: "fg.muted" })}>
          {halted ? "Halted" : "Resumed"} {new Date(state.updated_at).toLocaleString()}
          {state.reason ? `: ${state.reason}` : ""}
        </span>
      ) : null}
      <ErrorNotice error={setHalt.error} />
    </div>
  );
}
