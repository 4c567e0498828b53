import { useState } from "react";
import { css } from "styled-system/css";

import type { Trade } from "../../../api/generated/model";
import { Card, tableClass } from "../../../components/ui";
import { decimalPlaces, formatDecimal } from "../../../lib/decimal";
import { useLiveChannel } from "../../../lib/live";

const KEEP = 40;

export function RecentTrades({ symbol, initial, tickSize }: { symbol: string; initial: Trade[]; tickSize: string }) {
  const [trades, setTrades] = useState(initial.slice(0, KEEP));
  useLiveChannel(`trades:${symbol}`, (message) => {
    if (message.kind !== "frame") return;
    const data = message.frame.data as Trade | Trade[];
    const incoming = Array.isArray(data) ? data : [data];
    setTrades((current) => {
      const seen = new Set(current.map((trade) => trade.trade_id));
      return [...incoming.filter((trade) => !seen.has(trade.trade_id)).reverse(), ...current].slice(0, KEEP);
    });
  });
  const places = decimalPlaces(tickSize);
  return (
    <Card title="Recent trades">
      <table className={tableClass} aria-label="Recent trades">
        <thead>
          <tr>
            <th>Price</th>
            <th className="num">Size</th>
            <th className="num">Time</th>
          </tr>
        </thead>
        <tbody>
          {trades.map((trade) => (
            <tr key={trade.trade_id}>
              <td style={{ color: `var(--colors-${trade.taker_side})` }}>{formatDecimal(trade.price, places)}</td>
              <td className="num">{formatDecimal(trade.quantity)}</td>
              <td className="num">{new Date(trade.time).toLocaleTimeString()}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {trades.length === 0 ? <p className={css({ color: "fg.muted", fontSize: "sm" })}>No trades yet.</p> : null}
    </Card>
  );
}
