import { SegmentGroup } from "@ark-ui/react/segment-group";
import { useQueryClient } from "@tanstack/react-query";
import { useState, type SyntheticEvent } from "react";
import { css, cx } from "styled-system/css";

import { getLedgerListBalancesQueryKey } from "../../../api/generated/ledger/ledger";
import type { Balance, Market } from "../../../api/generated/model";
import { getTradingListOrdersQueryKey, useTradingPlaceOrder } from "../../../api/generated/trading/trading";
import { isProblemError } from "../../../api/problem";
import { toaster } from "../../../components/toaster";
import { Button, ErrorNotice, inputClass, TextField } from "../../../components/ui";
import { dec, floorToStep, formatDecimal, parseDecimal, toWire } from "../../../lib/decimal";
import { validateOrderTicket, type Quote, type Side, type TicketField, type TicketInput } from "../../../lib/orderTicket";

/** The API's field names for the ticket's inputs, so its problem details land on the right field. */
const API_FIELDS: Record<string, TicketField> = { price: "price", quantity: "quantity", quote_budget: "quoteBudget" };

const EMPTY_TICKET: TicketInput = { side: "buy", type: "limit", price: "", quantity: "", quoteBudget: "", timeInForce: "GTC", postOnly: false };

/**
 * The order ticket. `draft` (the assistant's) fills it in for review; only the trader's confirmation here
 * sends it, through the normal order API, after which `onDraftPlaced` lets the caller drop the draft.
 */
export function OrderTicket({
  market,
  balances,
  quote,
  draft,
  onDraftPlaced,
}: {
  market: Market;
  balances: Balance[];
  quote: Quote;
  draft?: TicketInput | undefined;
  onDraftPlaced?: () => void;
}) {
  const queryClient = useQueryClient();
  const place = useTradingPlaceOrder();
  const [input, setInput] = useState<TicketInput>(draft ?? EMPTY_TICKET);
  // A drafted ticket is checked at once, so the trader sees any problem before confirming.
  const [touched, setTouched] = useState(draft !== undefined);

  const available = Object.fromEntries(balances.map((balance) => [balance.asset, balance.available]));
  const result = validateOrderTicket(input, market, available, quote);
  const localErrors = touched && !result.ok ? result.errors : {};
  const apiErrors: Partial<Record<TicketField, string>> = {};
  if (isProblemError(place.error)) {
    for (const [field, message] of Object.entries(place.error.fieldErrors)) {
      const target = API_FIELDS[field];
      if (target) apiErrors[target] = message;
    }
  }
  const errorFor = (field: TicketField) => localErrors[field] ?? apiErrors[field];
  const set = (patch: Partial<TicketInput>) => {
    place.reset();
    setInput((current) => ({ ...current, ...patch }));
  };

  async function onSubmit(event: SyntheticEvent<HTMLFormElement>) {
    event.preventDefault();
    setTouched(true);
    if (!result.ok) return;
    try {
      const order = await place.mutateAsync({ data: result.order });
      toaster.create({
        type: "success",
        title: `${order.side === "buy" ? "Buy" : "Sell"} order ${order.status}`,
        description: `${market.symbol} ${order.type}${order.price ? ` @ ${order.price}` : ""}`,
      });
      setTouched(false);
      setInput((current) => ({ ...current, quantity: "", quoteBudget: "" }));
      if (draft !== undefined) onDraftPlaced?.();
    } catch {
      return;
    } finally {
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: getTradingListOrdersQueryKey() }),
        queryClient.invalidateQueries({ queryKey: getLedgerListBalancesQueryKey() }),
      ]);
    }
  }

  const sideButton = (side: Side) =>
    cx(
      css({ flex: "1", py: "2", fontWeight: "semibold", borderRadius: "md", cursor: "pointer", borderWidth: "1px", borderColor: "border.default" }),
      input.side === side ? css({ color: "fg.onSide" }) : css({ bg: "transparent", color: "fg.default" }),
    );
  const costAsset = input.side === "buy" ? market.quote_asset : market.base_asset;

  return (
    <form aria-label="Order ticket" onSubmit={(event) => void onSubmit(event)} noValidate className={css({ display: "flex", flexDirection: "column", gap: "3" })}>
      {draft !== undefined ? (
        <p role="note" className={css({ fontSize: "sm", borderLeftWidth: "3px", borderColor: "accent.default", bg: "bg.muted", px: "3", py: "2", borderRadius: "sm" })}>
          Filled in from the assistant&apos;s draft. Nothing is placed until you check it and confirm below.
        </p>
      ) : null}
      <div role="group" aria-label="Side" className={css({ display: "flex", gap: "2" })}>
        {(["buy", "sell"] as const).map((side) => (
          <button
            key={side}
            type="button"
            aria-pressed={input.side === side}
            className={sideButton(side)}
            style={input.side === side ? { background: `var(--colors-${side})` } : undefined}
            onClick={() => set({ side })}
          >
            {side === "buy" ? "Buy" : "Sell"}
          </button>
        ))}
      </div>
      <SegmentGroup.Root
        aria-label="Order type"
        value={input.type}
        onValueChange={({ value }) => set({ type: value === "market" ? "market" : "limit" })}
        className={css({ display: "flex", gap: "1", borderBottomWidth: "1px", borderColor: "border.default" })}
      >
        {(["limit", "market"] as const).map((type) => (
          <SegmentGroup.Item
            key={type}
            value={type}
            className={css({ px: "3", py: "1.5", fontSize: "sm", cursor: "pointer", "&[data-state=checked]": { fontWeight: "semibold", borderBottomWidth: "2px", borderColor: "accent.default" } })}
          >
            <SegmentGroup.ItemText>{type === "limit" ? "Limit" : "Market"}</SegmentGroup.ItemText>
            <SegmentGroup.ItemControl />
            <SegmentGroup.ItemHiddenInput />
          </SegmentGroup.Item>
        ))}
      </SegmentGroup.Root>
      {input.type === "limit" ? (
        <DecimalInput label={`Price (${market.quote_asset})`} name="price" step={market.tick_size} value={input.price} onChange={(price) => set({ price })} error={errorFor("price")} />
      ) : null}
      {input.type === "market" && input.side === "buy" ? (
        <DecimalInput label={`Spend (${market.quote_asset})`} name="quote_budget" step="1" value={input.quoteBudget} onChange={(quoteBudget) => set({ quoteBudget })} error={errorFor("quoteBudget")} />
      ) : (
        <DecimalInput label={`Quantity (${market.base_asset})`} name="quantity" step={market.lot_size} value={input.quantity} onChange={(quantity) => set({ quantity })} error={errorFor("quantity")} />
      )}
      {input.type === "limit" ? (
        <div className={css({ display: "flex", flexWrap: "wrap", gap: "3", alignItems: "center", fontSize: "sm", "& label": { whiteSpace: "nowrap" } })}>
          <label className={css({ display: "flex", gap: "2", alignItems: "center", flex: "1", minWidth: "0" })}>
            Time in force
            <select className={cx(inputClass, css({ flex: "1", minWidth: "0" }))} value={input.timeInForce} onChange={(event) => set({ timeInForce: event.target.value as TicketInput["timeInForce"] })}>
              <option value="GTC">Good till cancelled</option>
              <option value="IOC">Immediate or cancel</option>
              <option value="FOK">Fill or kill</option>
            </select>
          </label>
          <label className={css({ display: "flex", gap: "1", alignItems: "center" })}>
            <input type="checkbox" checked={input.postOnly} onChange={(event) => set({ postOnly: event.target.checked })} />
            Post only
          </label>
        </div>
      ) : null}
      <dl className={css({ fontSize: "xs", color: "fg.muted", display: "grid", gridTemplateColumns: "auto 1fr", gap: "1", "& dd": { textAlign: "right" } })}>
        <dt>Available</dt>
        <dd>
          {formatDecimal(available[costAsset] ?? "0")} {costAsset}
        </dd>
        <dt>Order value</dt>
        <dd>{result.notional === undefined ? "—" : `${formatDecimal(result.notional)} ${market.quote_asset}`}</dd>
        <dt>Grid</dt>
        <dd>
          tick {market.tick_size} · lot {market.lot_size} · min {market.min_notional} {market.quote_asset}
        </dd>
      </dl>
      {localErrors.form ? (
        <p role="alert" className={css({ color: "danger", fontSize: "sm" })}>
          {localErrors.form}
        </p>
      ) : null}
      {place.error && Object.keys(apiErrors).length === 0 ? <ErrorNotice error={place.error} /> : null}
      <Button type="submit" variant={input.side} disabled={place.isPending}>
        {place.isPending ? "Placing…" : `${input.side === "buy" ? "Buy" : "Sell"} ${market.base_asset}`}
      </Button>
    </form>
  );
}

/**
 * A decimal text field with grid-step buttons. The text is kept exactly as typed ("0.00010" stays) and
 * steps use decimal arithmetic; Ark UI's number input was tried here and, controlled, re-formatted typed
 * decimals through numbers ("64000.05" became "640.5"), which a price field cannot allow.
 */
function DecimalInput({ label, name, step, value, onChange, error }: { label: string; name: string; step: string; value: string; onChange: (value: string) => void; error: string | undefined }) {
  const stepBy = (direction: 1 | -1) => {
    const current = parseDecimal(value) ?? dec("0");
    const next = floorToStep(current, dec(step)).plus(dec(step).times(direction));
    onChange(toWire(next.lt(0) ? dec("0") : next));
  };
  const stepButton = css({ px: "3", borderWidth: "1px", borderColor: "border.default", borderRadius: "md", cursor: "pointer", height: "9", mt: "6" });
  return (
    <div className={css({ display: "flex", gap: "1", alignItems: "flex-start" })}>
      <div className={css({ flex: "1" })}>
        <TextField label={label} name={name} inputMode="decimal" autoComplete="off" value={value} onChange={(event) => onChange(event.target.value.trim())} error={error} />
      </div>
      <button type="button" className={stepButton} aria-label={`Decrease ${label} by ${step}`} onClick={() => stepBy(-1)}>
        −
      </button>
      <button type="button" className={stepButton} aria-label={`Increase ${label} by ${step}`} onClick={() => stepBy(1)}>
        +
      </button>
    </div>
  );
}
