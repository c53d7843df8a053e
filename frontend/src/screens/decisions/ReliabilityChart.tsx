import { formatRatio } from '../../format/numbers';
import type { ReliabilitySeries } from './reliability';

const SIZE = 220;
const PAD = 32;
const COLORS = ['var(--accent)', 'var(--up)', 'var(--down)', 'var(--warn)', 'var(--muted)'];

/** Stated confidence against how often decisions at that confidence turned out right. */
export function ReliabilityChart({ series }: { series: ReliabilitySeries[] }) {
  const inner = SIZE - PAD * 1.5;
  const x = (v: number) => PAD + v * inner;
  const y = (v: number) => SIZE - PAD - v * inner;
  const maxN = Math.max(...series.flatMap((s) => s.bins.map((b) => b.n)), 1);
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  return (
    <figure className="reliability" data-testid="reliability-chart">
      <svg viewBox={`0 0 ${SIZE} ${SIZE}`} role="img" aria-label="Reliability: confidence against realised hit rate; the diagonal is perfect calibration">
        {ticks.map((t) => (
          <g key={t} className="axis">
            <line x1={x(0)} x2={x(1)} y1={y(t)} y2={y(t)} className="gridline" />
            <line x1={x(t)} x2={x(t)} y1={y(0)} y2={y(1)} className="gridline" />
            <text x={x(t)} y={SIZE - PAD + 14} textAnchor="middle">
              {Math.round(t * 100)}
            </text>
            <text x={PAD - 6} y={y(t) + 4} textAnchor="end">
              {Math.round(t * 100)}
            </text>
          </g>
        ))}
        <line x1={x(0)} y1={y(0)} x2={x(1)} y2={y(1)} className="diagonal" />
        {series.map((s, i) => {
          const pts = s.bins.map((b) => ({ cx: x(b.mean_confidence ?? (b.bin_lo + b.bin_hi) / 2), cy: y(b.hit_rate ?? 0), b }));
          return (
            <g key={s.name} style={{ color: COLORS[i % COLORS.length] }}>
              <polyline points={pts.map((p) => `${p.cx},${p.cy}`).join(' ')} fill="none" stroke="currentColor" strokeWidth={i === 0 ? 2 : 1.2} opacity={i === 0 ? 1 : 0.7} />
              {pts.map((p) => (
                <circle key={p.b.bin_lo} cx={p.cx} cy={p.cy} r={2.5 + 4 * Math.sqrt(p.b.n / maxN)} fill="currentColor" opacity={0.85}>
                  <title>
                    {`${s.name}: confidence ${formatRatio(p.b.mean_confidence)} (bin ${Math.round(p.b.bin_lo * 100)}-${Math.round(p.b.bin_hi * 100)} %), right ${formatRatio(p.b.hit_rate)}, ${p.b.n} decisions`}
                  </title>
                </circle>
              ))}
            </g>
          );
        })}
        <text x={x(0.5)} y={SIZE - 4} textAnchor="middle" className="axis-title">
          confidence %
        </text>
        <text x={10} y={y(0.5)} textAnchor="middle" className="axis-title" transform={`rotate(-90 10 ${y(0.5)})`}>
          hit rate %
        </text>
      </svg>
      <figcaption className="small muted">
        {series.map((s, i) => (
          <span key={s.name} className="legend-item" style={{ color: COLORS[i % COLORS.length] }}>
            ● <span className="legend-item__text">{s.name}</span>
          </span>
        ))}{' '}
        Points on the diagonal mean the confidence was honest; dot size is the number of decisions.
      </figcaption>
    </figure>
  );
}
