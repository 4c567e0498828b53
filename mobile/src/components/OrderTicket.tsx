/**
 * The order ticket: limit or market, buy or sell, checked as the trader types with the web app's rules
 * (tick, lot, minimum notional, available balance); the API's own problem is shown when it disagrees.
 */
import { useState } from "react";
import { Pressable, StyleSheet, Switch, Text, View } from "react-native";

import type { Order } from "../api/generated/model";
import { validateOrderTicket, type Available, type InstrumentRules, type OrderType, type Side, type TicketInput } from "../lib/web";
import { colors, space } from "../theme";
import { Button, ErrorText, Field, Muted, styles as ui } from "./ui";

type OrderBody = Extract<ReturnType<typeof validateOrderTicket>, { ok: true }>["order"];

function Toggle<T extends string>({ options, value, onChange, label }: { options: readonly T[]; value: T; onChange: (next: T) => void; label: string }) {
  return (
    <View accessibilityRole="radiogroup" accessibilityLabel={label} style={styles.toggle}>
      {options.map((option) => (
        <Pressable
          key={option}
          accessibilityRole="radio"
          accessibilityState={{ selected: option === value }}
          onPress={() => onChange(option)}
          style={[styles.toggleItem, option === value && styles.toggleSelected]}
        >
          <Text style={ui.text}>{option.charAt(0).toUpperCase() + option.slice(1)}</Text>
        </Pressable>
      ))}
    </View>
  );
}

export function OrderTicket({
  rules,
  available,
  bestBid,
  bestAsk,
  onPlace,
}: {
  rules: InstrumentRules;
  available: Available;
  bestBid: string | undefined;
  bestAsk: string | undefined;
  onPlace: (order: OrderBody) => Promise<Order>;
}) {
  const [input, setInput] = useState<TicketInput>({
    side: "buy",
    type: "limit",
    price: "",
    quantity: "",
    quoteBudget: "",
    timeInForce: "GTC",
    postOnly: false,
  });
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);
  const [placed, setPlaced] = useState<Order | null>(null);

  const result = validateOrderTicket(input, rules, available, { bestBid, bestAsk });
  const errors = touched && !result.ok ? result.errors : {};
  const update = (patch: Partial<TicketInput>) => {
    setInput((current) => ({ ...current, ...patch }));
    setPlaced(null);
    setFailure(null);
  };

  const submit = async () => {
    setTouched(true);
    if (!result.ok) return;
    setBusy(true);
    try {
      setPlaced(await onPlace(result.order));
      setTouched(false);
      setInput((current) => ({ ...current, quantity: "", quoteBudget: "" }));
    } catch (error) {
      setFailure(error);
    } finally {
      setBusy(false);
    }
  };

  const isMarketBuy = input.type === "market" && input.side === "buy";
  return (
    <View accessibilityLabel="Order ticket">
      <Toggle<Side> label="Side" options={["buy", "sell"]} value={input.side} onChange={(side) => update({ side })} />
      <Toggle<OrderType> label="Order type" options={["limit", "market"]} value={input.type} onChange={(type) => update({ type })} />
      {input.type === "limit" && (
        <Field label={`Price (${rules.quote_asset})`} value={input.price} onChangeText={(price) => update({ price })} keyboardType="decimal-pad" error={errors.price} />
      )}
      {isMarketBuy ? (
        <Field
          label={`Spend (${rules.quote_asset})`}
          value={input.quoteBudget}
          onChangeText={(quoteBudget) => update({ quoteBudget })}
          keyboardType="decimal-pad"
          error={errors.quoteBudget}
        />
      ) : (
        <Field
          label={`Quantity (${rules.base_asset})`}
          value={input.quantity}
          onChangeText={(quantity) => update({ quantity })}
          keyboardType="decimal-pad"
          error={errors.quantity}
        />
      )}
      {input.type === "limit" && (
        <View style={[ui.row, { marginBottom: space.md }]}>
          <Text style={ui.text}>Post only</Text>
          <Switch accessibilityLabel="Post only" value={input.postOnly} onValueChange={(postOnly) => update({ postOnly })} />
        </View>
      )}
      <Muted>
        Available: {available[rules.quote_asset] ?? "0"} {rules.quote_asset} · {available[rules.base_asset] ?? "0"} {rules.base_asset}
        {result.notional !== undefined ? ` · Value ${result.notional} ${rules.quote_asset}` : ""}
      </Muted>
      {errors.form !== undefined && (
        <Text accessibilityRole="alert" style={ui.error}>
          {errors.form}
        </Text>
      )}
      <ErrorText error={failure} />
      {placed !== null && (
        <Text accessibilityRole="alert" style={[ui.text, { color: colors.buy, marginTop: space.xs }]}>
          Order {placed.id} {placed.status.replace("_", " ")}
        </Text>
      )}
      <View style={{ height: space.md }} />
      <Button
        label={`${input.side === "buy" ? "Buy" : "Sell"} ${rules.base_asset}`}
        tone={input.side === "buy" ? "buy" : "sell"}
        disabled={busy}
        onPress={() => void submit()}
      />
    </View>
  );
}

const styles = StyleSheet.create({
  toggle: { flexDirection: "row", marginBottom: space.md, borderRadius: 8, overflow: "hidden", borderWidth: 1, borderColor: colors.border },
  toggleItem: { flex: 1, paddingVertical: space.sm, alignItems: "center" },
  toggleSelected: { backgroundColor: colors.border },
});
