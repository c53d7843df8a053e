// Render timings the e2e run reads (window.__photonPerf); cheap enough to keep in production.
export interface ChartRender {
  bars: number;
  /** Bars in view when it was drawn (all of them with ?fit=1). */
  visible?: number;
  /** The first data this chart instance drew (a page load or an interval switch). */
  first?: boolean;
  ms: number;
  at: number;
}

declare global {
  interface Window {
    __photonPerf?: { chart: ChartRender[] };
  }
}

export function recordChartRender(bars: number, ms: number, visible?: number, first?: boolean): void {
  const perf = (window.__photonPerf ??= { chart: [] });
  perf.chart.push({ bars, visible, first, ms: Math.round(ms * 10) / 10, at: Date.now() });
  if (perf.chart.length > 50) perf.chart.shift();
}
