import { createListCollection, Select } from "@ark-ui/react/select";
import { Portal } from "@ark-ui/react/portal";
import { useQuery } from "@tanstack/react-query";
import { CandlestickSeries, createChart, HistogramSeries, type IChartApi, type ISeriesApi, type UTCTimestamp } from "lightweight-charts";
import { useEffect, useRef, useState } from "react";
import { css } from "styled-system/css";

import { getMarketsGetCandlesQueryOptions } from "../../../api/generated/markets/markets";
import { MarketsGetCandlesInterval, type Candle } from "../../../api/generated/model";
import { Card } from "../../../components/ui";
import { useLiveChannel } from "../../../lib/live";

type Interval = MarketsGetCandlesInterval;
const intervals = createListCollection({ items: Object.values(MarketsGetCandlesInterval) });

function toBar(candle: Candle) {
  // The chart library draws with numbers; conversion happens here, for display only.
  const time = (Date.parse(candle.time) / 1000) as UTCTimestamp;
  return {
    candle: { time, open: Number(candle.open), high: Number(candle.high), low: Number(candle.low), close: Number(candle.close) },
    volume: { time, value: Number(candle.volume), color: Number(candle.close) >= Number(candle.open) ? "rgba(22,163,74,0.4)" : "rgba(220,38,38,0.4)" },
  };
}

export function CandleChart({ symbol }: { symbol: string }) {
  const [interval, setInterval] = useState<Interval>("1m");
  const { data } = useQuery(getMarketsGetCandlesQueryOptions(symbol, { interval, limit: 300 }));
  const container = useRef<HTMLDivElement>(null);
  const series = useRef<{ chart: IChartApi; candles: ISeriesApi<"Candlestick">; volume: ISeriesApi<"Histogram"> } | null>(null);

  useEffect(() => {
    const element = container.current;
    if (element === null) return undefined;
    const styles = getComputedStyle(document.documentElement);
    const chart = createChart(element, {
      autoSize: true,
      layout: { background: { color: "transparent" }, textColor: styles.getPropertyValue("--colors-fg-muted") || "#888" },
      grid: { vertLines: { visible: false }, horzLines: { color: "rgba(128,128,128,0.15)" } },
      timeScale: { timeVisible: true },
    });
    const candles = chart.addSeries(CandlestickSeries, { upColor: "#16a34a", downColor: "#dc2626", borderVisible: false, wickUpColor: "#16a34a", wickDownColor: "#dc2626" });
    const volume = chart.addSeries(HistogramSeries, { priceScaleId: "volume", priceFormat: { type: "volume" } });
    chart.priceScale("volume").applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    series.current = { chart, candles, volume };
    return () => {
      series.current = null;
      chart.remove();
    };
  }, []);

  useEffect(() => {
    const target = series.current;
    if (target === null || data === undefined) return;
    const bars = [...data.items].sort((a, b) => Date.parse(a.time) - Date.parse(b.time)).map(toBar);
    target.candles.setData(bars.map((bar) => bar.candle));
    target.volume.setData(bars.map((bar) => bar.volume));
  }, [data]);

  useLiveChannel(`candles:${symbol}:${interval}`, (message) => {
    if (message.kind !== "frame" || series.current === null) return;
    const bar = toBar(message.frame.data as Candle);
    series.current.candles.update(bar.candle);
    series.current.volume.update(bar.volume);
  });

  return (
    <Card
      title="Chart"
      actions={
        <Select.Root collection={intervals} value={[interval]} onValueChange={({ value }) => setInterval((value[0] as Interval | undefined) ?? "1m")} positioning={{ sameWidth: true }}>
          <Select.Label className={css({ srOnly: true })}>Interval</Select.Label>
          <Select.Control>
            <Select.Trigger className={css({ fontSize: "sm", px: "2", py: "1", borderWidth: "1px", borderColor: "border.default", borderRadius: "md", cursor: "pointer", minWidth: "16" })}>
              <Select.ValueText />
            </Select.Trigger>
          </Select.Control>
          <Portal>
            <Select.Positioner>
              <Select.Content className={css({ bg: "bg.surface", borderWidth: "1px", borderColor: "border.default", borderRadius: "md", p: "1", outline: "none" })}>
                {intervals.items.map((item) => (
                  <Select.Item key={item} item={item} className={css({ px: "2", py: "1", fontSize: "sm", cursor: "pointer", _highlighted: { bg: "bg.muted" } })}>
                    <Select.ItemText>{item}</Select.ItemText>
                  </Select.Item>
                ))}
              </Select.Content>
            </Select.Positioner>
          </Portal>
          <Select.HiddenSelect />
        </Select.Root>
      }
    >
      <div ref={container} className={css({ height: "360px" })} />
    </Card>
  );
}
