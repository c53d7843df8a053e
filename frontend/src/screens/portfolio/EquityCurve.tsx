import type { EquityPoint } from '../../api/types';
import { formatMoney } from '../../format/numbers';
import { formatClock } from '../../format/time';

const W = 640;
const H = 200;
const PAD = { l: 8, r: 8, t: 12, b: 22 };

/** Equity over time, with the starting cash as a dashed line to read gains against. */
export function EquityCurve({ points, baseline }: { points: EquityPoint[]; baseline?: number }) {
  const data = points.map((p) => ({ t: Date.parse(p.ts), v: p.equity })).filter((p) => Number.isFinite(p.t) && Number.isFinite(p.v));
  if (data.length < 2) return null;
  const t0 = data[0].t;
  const t1 = data[data.length - 1].t;
  const values = data.map((p) => p.v).concat(baseline != null ? [baseline] : []);
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  // A few dollars on ten thousand must not look like a crash: at least 0.5 % of the level.
  const minSpan = Math.max(1, Math.abs(hi) * 0.005);
  if (hi - lo < minSpan) {
    const mid = (hi + lo) / 2;
    lo = mid - minSpan / 2;
    hi = mid + minSpan / 2;
  }
  const x = (t: number) => PAD.l + ((t - t0) / (t1 - t0 || 1)) * (W - PAD.l - PAD.r);
  const y = (v: number) => PAD.t + (1 - (v - lo) / (hi - lo)) * (H - PAD.t - PAD.b);
  const d = data.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join('');
  const last = data[data.length - 1];
  const dir = baseline == null ? 'flat' : last.v >= baseline ? 'up' : 'down';
  return (
    <figure className="equity" data-testid="equity-curve">
      <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img" aria-label={`Equity curve, ${data.length} points, from ${formatMoney(data[0].v)} to ${formatMoney(last.v)}`}>
        {baseline != null && <line className="equity__base" x1={PAD.l} x2={W - PAD.r} y1={y(baseline)} y2={y(baseline)} />}
        <path className={`equity__line equity__line--${dir}`} d={d} fill="none" vectorEffect="non-scaling-stroke" />
      </svg>
      <figcaption className="equity__axis small muted">
        <span>{formatClock(new Date(t0).toISOString())}</span>
        <span>
          low {formatMoney(Math.min(...data.map((p) => p.v)))} · high {formatMoney(Math.max(...data.map((p) => p.v)))}
        </span>
        <span>{formatClock(new Date(t1).toISOString())}</span>
      </figcaption>
    </figure>
  );
}
