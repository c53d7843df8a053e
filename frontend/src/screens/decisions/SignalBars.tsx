import type { Decision } from '../../api/types';
import { formatSigned } from '../../format/numbers';
import { topSignals } from '../../state/decisions';

function formatValue(v: number | null): string {
  if (v == null || !Number.isFinite(v)) return '—';
  const abs = Math.abs(v);
  if (abs !== 0 && abs < 0.01) return v.toExponential(1);
  return v.toFixed(abs < 10 ? 3 : 1);
}

/** The few signals that pushed hardest: bars right of the middle push toward BUY, left toward SELL. */
export function SignalBars({ decision }: { decision: Decision }) {
  const top = topSignals(decision);
  if (!top.length) return <p className="muted small">No signal contributions recorded.</p>;
  const max = Math.max(...top.map((s) => Math.abs(s.contribution)), 1e-9);
  return (
    <ul className="signals" aria-label="Top signal contributions">
      {top.map((s) => {
        const width = (Math.abs(s.contribution) / max) * 50;
        const dir = s.contribution > 0 ? 'buy' : s.contribution < 0 ? 'sell' : 'none';
        return (
          <li key={s.key} className="signals__row">
            <span className="signals__label" title={s.key}>
              {s.label} <span className="muted">= {formatValue(s.value)}</span>
            </span>
            <span className="signals__track" aria-hidden="true">
              <span className={`signals__bar signals__bar--${dir}`} style={dir === 'sell' ? { right: '50%', width: `${width}%` } : { left: '50%', width: `${width}%` }} />
            </span>
            <span className={`signals__value signals__value--${dir}`}>
              {formatSigned(s.contribution, 2)}
              <span className="sr-only">{dir === 'buy' ? ' toward BUY' : dir === 'sell' ? ' toward SELL' : ''}</span>
            </span>
          </li>
        );
      })}
    </ul>
  );
}
