/** Candlesticks drawn with react-native-svg: wick from low to high, body from open to close. */
import { useState } from "react";
import { View, type LayoutChangeEvent } from "react-native";
import Svg, { G, Line, Rect } from "react-native-svg";

import type { Candle } from "../api/generated/model";
import { colors } from "../theme";
import { Muted } from "./ui";

const HEIGHT = 180;

// Chart geometry only: prices become pixel positions, never amounts.
function scale(value: string, low: number, high: number): number {
  if (high === low) return HEIGHT / 2;
  return HEIGHT - ((Number(value) - low) / (high - low)) * (HEIGHT - 8) - 4;
}

export function CandleChart({ candles }: { candles: readonly Candle[] }) {
  const [width, setWidth] = useState(0);
  const onLayout = (event: LayoutChangeEvent) => setWidth(event.nativeEvent.layout.width);
  if (candles.length === 0) return <Muted>No trades yet in this interval.</Muted>;
  const low = Math.min(...candles.map((candle) => Number(candle.low)));
  const high = Math.max(...candles.map((candle) => Number(candle.high)));
  // At most 14 px per candle, newest at the right edge, so a young market does not stretch one candle wide.
  const step = Math.min(width / candles.length, 14);
  const start = width - step * candles.length;
  const body = Math.max(1, step * 0.6);
  return (
    <View onLayout={onLayout} accessibilityLabel={`Candles chart, ${candles.length} candles`} style={{ height: HEIGHT }}>
      {width > 0 && (
        <Svg width={width} height={HEIGHT}>
          {candles.map((candle, index) => {
            const x = start + index * step + step / 2;
            const up = Number(candle.close) >= Number(candle.open);
            const color = up ? colors.buy : colors.sell;
            const top = scale(up ? candle.close : candle.open, low, high);
            const bottom = scale(up ? candle.open : candle.close, low, high);
            return (
              <G key={candle.time}>
                <Line x1={x} x2={x} y1={scale(candle.high, low, high)} y2={scale(candle.low, low, high)} stroke={color} strokeWidth={1} />
                <Rect x={x - body / 2} y={top} width={body} height={Math.max(1, bottom - top)} fill={color} />
              </G>
            );
          })}
        </Svg>
      )}
    </View>
  );
}
