// The canvas: lightweight-charts candlesticks with volume, markers, and "scroll left for more".
// Loaded lazily, so the first load of the dashboard does not carry the chart library.
import {
  CandlestickSeries,
  createChart,
  createSeriesMarkers,
  HistogramSeries,
  type IChartApi,
  type ISeriesApi,
  type ISeriesMarkersPluginApi,
  type LogicalRange,
  type SeriesMarker,
  type Time,
  type UTCTimestamp,
} from 'lightweight-charts';
import { useEffect, useRef } from 'react';
import { recordChartRender } from '../../perf';
import type { CBar, Change, Marker } from './chartData';

export interface CandleChartProps {
  bars: CBar[];
  /** What changed since the last render: one bar updated or appended lets the chart skip setData. */
  change: Change;
  markers: Marker[];
  decimals: number;
  daily: boolean;
  onNeedOlder?: () => void;
  label: string;
  /** Show every bar at once (the first time data arrives) instead of the newest few hundred. */
  fitAll?: boolean;
}

interface Theme {
  up: string;
  down: string;
  text: string;
  grid: string;
  bg: string;
}

function readTheme(el: HTMLElement): Theme {
  const css = getComputedStyle(el);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  return {
    up: v('--up', '#16a34a'),
    down: v('--down', '#dc2626'),
    text: v('--muted', '#6b7280'),
    grid: v('--grid', 'rgba(127,127,127,0.15)'),
    bg: v('--surface', '#ffffff'),
  };
}

function withAlpha(color: string, alpha: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (!m) return color;
  const n = parseInt(m[1], 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
}

export default function CandleChart({ bars, change, markers, decimals, daily, onNeedOlder, label, fitAll }: CandleChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<IChartApi | null>(null);
  const candles = useRef<ISeriesApi<'Candlestick'> | null>(null);
  const volume = useRef<ISeriesApi<'Histogram'> | null>(null);
  const markerApi = useRef<ISeriesMarkersPluginApi<Time> | null>(null);
  const shown = useRef<CBar[]>([]);
  const theme = useRef<Theme | null>(null);
  const needOlder = useRef(onNeedOlder);
  needOlder.current = onNeedOlder;

  useEffect(() => {
    const el = box.current!;
    const t = (theme.current = readTheme(el));
    const c = createChart(el, {
      autoSize: true,
      layout: { background: { color: 'transparent' }, textColor: t.text, attributionLogo: true },
      grid: { vertLines: { color: t.grid }, horzLines: { color: t.grid } },
      rightPriceScale: { borderVisible: false },
      timeScale: { borderVisible: false, timeVisible: !daily, secondsVisible: false, rightOffset: 4 },
      crosshair: { mode: 1 },
      localization: { timeFormatter: (time: UTCTimestamp) => new Date(time * 1000).toISOString().slice(0, daily ? 10 : 16).replace('T', ' ') },
    });
    const cs = c.addSeries(CandlestickSeries, {
      upColor: t.up,
      downColor: t.down,
      wickUpColor: t.up,
      wickDownColor: t.down,
      borderVisible: false,
      priceScaleId: 'right',
    });
    cs.priceScale().applyOptions({ scaleMargins: { top: 0.08, bottom: 0.26 } });
    const vs = c.addSeries(HistogramSeries, { priceScaleId: 'volume', priceFormat: { type: 'volume' }, lastValueVisible: false, priceLineVisible: false });
    c.priceScale('volume').applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    chart.current = c;
    candles.current = cs;
    volume.current = vs;
    markerApi.current = createSeriesMarkers(cs, []);
    shown.current = [];

    const onRange = (range: LogicalRange | null) => {
      if (range && range.from < 10 && shown.current.length) needOlder.current?.();
    };
    c.timeScale().subscribeVisibleLogicalRangeChange(onRange);

    const media = window.matchMedia?.('(prefers-color-scheme: dark)');
    const onScheme = () => {
      const nt = (theme.current = readTheme(el));
      c.applyOptions({ layout: { textColor: nt.text }, grid: { vertLines: { color: nt.grid }, horzLines: { color: nt.grid } } });
      cs.applyOptions({ upColor: nt.up, downColor: nt.down, wickUpColor: nt.up, wickDownColor: nt.down });
      vs.setData(shown.current.map((b) => volumePoint(b, nt)));
    };
    media?.addEventListener?.('change', onScheme);
    return () => {
      media?.removeEventListener?.('change', onScheme);
      c.timeScale().unsubscribeVisibleLogicalRangeChange(onRange);
      c.remove();
      chart.current = null;
      candles.current = null;
      volume.current = null;
      markerApi.current = null;
    };
  }, [daily]);

  useEffect(() => {
    candles.current?.applyOptions({ priceFormat: { type: 'price', precision: decimals, minMove: 1 / 10 ** decimals } });
  }, [decimals]);

  useEffect(() => {
    const cs = candles.current;
    const vs = volume.current;
    const c = chart.current;
    const t = theme.current;
    if (!cs || !vs || !c || !t) return;
    const prev = shown.current;
    const incremental =
      change && (change.kind === 'update' || change.kind === 'append') && prev.length > 0 && bars.length - prev.length === (change.kind === 'append' ? 1 : 0) && prev[0].time === bars[0].time;
    if (incremental) {
      cs.update(candle(change.bar));
      vs.update(volumePoint(change.bar, t));
    } else {
      // A prepended page keeps the view where the user was looking.
      const prepended = prev.length && bars.length > prev.length && bars[bars.length - 1].time === prev[prev.length - 1].time ? bars.length - prev.length : 0;
      const range = prepended ? c.timeScale().getVisibleLogicalRange() : null;
      const started = performance.now();
      cs.setData(bars.map(candle));
      vs.setData(bars.map((b) => volumePoint(b, t)));
      if (range) c.timeScale().setVisibleLogicalRange({ from: range.from + prepended, to: range.to + prepended });
      else if (fitAll && !prev.length) c.timeScale().fitContent();
      const count = bars.length;
      const first = prev.length === 0;
      // lightweight-charts draws in the next animation frame; this callback runs after it.
      if (count)
        requestAnimationFrame(() => {
          const ms = performance.now() - started;
          const view = c.timeScale().getVisibleLogicalRange();
          const visible = view ? Math.min(count, Math.round(view.to) + 1) - Math.max(0, Math.round(view.from)) : undefined;
          recordChartRender(count, ms, visible, first);
        });
    }
    shown.current = bars;
  }, [bars, change]);

  useEffect(() => {
    markerApi.current?.setMarkers(markers.map((m) => ({ ...m, time: m.time as UTCTimestamp }) as SeriesMarker<Time>));
  }, [markers, bars]);

  return <div className="candles" ref={box} role="img" aria-label={label} data-testid="candle-chart" />;
}

function candle(b: CBar) {
  return { time: b.time as UTCTimestamp, open: b.open, high: b.high, low: b.low, close: b.close };
}

function volumePoint(b: CBar, t: Theme) {
  return { time: b.time as UTCTimestamp, value: b.volume, color: withAlpha(b.close >= b.open ? t.up : t.down, 0.45) };
}
