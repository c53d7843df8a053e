import { useEffect } from 'react';
import { api } from '../api/client';
import type { Interval, WatchedSymbol } from '../api/types';
import { formatMarketTime } from '../format/time';
import { market, noteMarketTime } from '../state/market';
import { useStore } from '../state/store';

const POLL_MS = 10_000;

/** The interval replay advances by: hourly for crypto, daily for stocks. */
function replayInterval(s: WatchedSymbol): Interval {
  return s.asset_class === 'crypto' ? '1h' : '1d';
}

/** Replay mode must never pass for live data: say so, with the market time being replayed. */
export function ReplayBadge() {
  const health = useStore(market, (s) => s.health);
  const times = useStore(market, (s) => s.marketTimes);
  const symbols = useStore(market, (s) => s.symbols);
  const quotes = useStore(market, (s) => s.quotes);
  const replay = health?.data_source === 'replay' || Object.values(quotes).some((q) => q.source === 'replay');

  // Until quotes carry source_time, ask for the newest bar now and then.
  const needPoll = replay && symbols.some((s) => times[s.symbol]?.from !== 'source_time');
  useEffect(() => {
    if (!needPoll) return;
    let stopped = false;
    const poll = () => {
      for (const s of market.get().symbols.slice(0, 6)) {
        if (market.get().marketTimes[s.symbol]?.from === 'source_time') continue;
        api
          .bars({ symbol_id: s.id, interval: replayInterval(s), limit: 1 })
          .then((bars) => !stopped && bars.length && noteMarketTime(s.symbol, bars[bars.length - 1].open_time))
          .catch(() => undefined);
      }
    };
    poll();
    const t = setInterval(poll, POLL_MS);
    return () => {
      stopped = true;
      clearInterval(t);
    };
  }, [needPoll, symbols.length]);

  if (!replay) return null;
  const known = symbols.filter((s) => times[s.symbol]);
  const shown = known.slice(0, 2);
  const more = known.slice(2);
  return (
    <div className="replay" role="status" data-testid="replay-badge" title="Bundled historical prices replayed as a live feed; nothing here is live market data">
      <span className="replay__tag">REPLAY DATA</span>
      {shown.length > 0 && (
        <span className="replay__times">
          {shown.map((s) => (
            <span key={s.symbol} className="replay__time">
              {s.symbol} <time dateTime={times[s.symbol].iso}>{formatMarketTime(times[s.symbol].iso, s.asset_class !== 'crypto')}</time>
            </span>
          ))}
          {more.length > 0 && (
            <span className="replay__time" title={more.map((s) => `${s.symbol} ${formatMarketTime(times[s.symbol].iso, s.asset_class !== 'crypto')}`).join('\n')}>
              +{more.length} more
            </span>
          )}
        </span>
      )}
    </div>
  );
}
