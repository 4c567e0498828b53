import type { UseMutationResult } from "@tanstack/react-query";
import { useState, type SyntheticEvent } from "react";
import { css } from "styled-system/css";

import type { AssistantOrderDraftMutationVariables } from "../../../api/generated/assistant/assistant";
import type { DraftResponse, DraftResponseFallback, OrderDraft } from "../../../api/generated/model";
import type { ProblemError } from "../../../api/problem";
import { Button, Card, ErrorNotice, TextField } from "../../../components/ui";

export type AssistantMutation = UseMutationResult<DraftResponse, ProblemError, AssistantOrderDraftMutationVariables>;

/** The guards the API reports, in words a trader reads. */
const CHECK_LABELS: Record<string, string> = {
  order_request: "asks for an order",
  no_injection: "no instructions to the assistant",
  personal_data: "personal data kept back",
  schema: "well-formed answer",
  amount: "amounts from your balances",
  market_trades: "market is trading",
  order_shape: "valid side and type",
  on_grid: "on the price and lot grid",
  min_notional: "above the minimum value",
  price_band: "within the price band",
  affordable: "affordable with your balance",
};

const FALLBACK_REASONS: Record<NonNullable<DraftResponseFallback>, string> = {
  model_error: "the model failed",
  model_timeout: "the model did not answer in time",
  guard_failed: "the model's answer failed a check",
  low_confidence: "the model was not confident enough",
  model_not_configured: "no model is configured",
};

/**
 * Plain words in, a draft out: the draft fills the order ticket for review and nothing is placed here.
 * The request lives with the caller so its answer outlasts a move to the draft's market.
 */
export function AssistantPanel({ assistant, onDraft }: { assistant: AssistantMutation; onDraft: (draft: OrderDraft) => void }) {
  const [text, setText] = useState("");

  async function onSubmit(event: SyntheticEvent<HTMLFormElement>) {
    event.preventDefault();
    if (text.trim() === "") return;
    try {
      const response = await assistant.mutateAsync({ data: { text: text.trim() } });
      if (response.draft) onDraft(response.draft);
    } catch {
      return; // shown below from the mutation's error
    }
  }

  return (
    <Card title="Assistant">
      <form aria-label="Order assistant" onSubmit={(event) => void onSubmit(event)} noValidate className={css({ display: "flex", flexDirection: "column", gap: "2" })}>
        <TextField
          label="Describe an order"
          name="assistant_text"
          autoComplete="off"
          maxLength={500}
          placeholder="buy 0.25 ETH at 3,100 good till cancelled"
          value={text}
          onChange={(event) => setText(event.target.value)}
          hint="The draft fills the ticket; nothing is placed until you confirm there."
        />
        <Button type="submit" variant="secondary" disabled={assistant.isPending || text.trim() === ""}>
          {assistant.isPending ? "Drafting…" : "Draft order"}
        </Button>
      </form>
      {assistant.data ? <AssistantAnswer response={assistant.data} /> : null}
      <ErrorNotice error={assistant.error} />
    </Card>
  );
}

function AssistantAnswer({ response }: { response: DraftResponse }) {
  const source = response.source === "model" ? "Understood by the language model" : "Answered by the rules";
  const fallback = response.fallback ? ` (${FALLBACK_REASONS[response.fallback]})` : "";
  return (
    <div role="status" aria-label="Assistant's answer" className={css({ mt: "3", display: "flex", flexDirection: "column", gap: "2", fontSize: "sm" })}>
      <p className={css({ fontWeight: "semibold", color: response.refusal ? "danger" : "fg.default" })}>
        {response.refusal ? "No draft: " : null}
        {response.explanation}
      </p>
      <p className={css({ fontSize: "xs", color: "fg.muted" })}>
        {source}
        {fallback}
      </p>
      {response.checks.length > 0 ? (
        <ul aria-label="Checks passed" className={css({ display: "flex", flexWrap: "wrap", gap: "1", fontSize: "xs" })}>
          {response.checks.map((check) => (
            <li key={check} className={css({ px: "2", py: "0.5", borderRadius: "full", bg: "bg.muted", color: "fg.default" })}>
              ✓ {CHECK_LABELS[check] ?? check.replace(/_/g, " ")}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
