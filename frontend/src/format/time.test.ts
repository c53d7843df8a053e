import { describe, expect, it } from 'vitest';
import { formatAgo, formatMarketTime } from './time';

describe('time', () => {
  it('shows market times in UTC, dates only for daily bars', () => {
    expect(formatMarketTime('2020-06-30T22:00:00+00:00')).toBe('2020-06-30 22:00 UTC');
    expect(formatMarketTime('2006-08-16T00:00:00+00:00', true)).toBe('2006-08-16');
    expect(formatMarketTime(null)).toBe('—');
  });

  it('says how long ago', () => {
    const now = Date.parse('2026-12-01T12:00:00Z');
    expect(formatAgo('2026-12-01T11:59:59.5Z', now)).toBe('just now');
    expect(formatAgo('2026-12-01T11:59:30Z', now)).toBe('30 s ago');
    expect(formatAgo('2026-12-01T11:55:00Z', now)).toBe('5 min ago');
    expect(formatAgo('2026-12-01T09:00:00Z', now)).toBe('3 h ago');
    expect(formatAgo(null, now)).toBe('never');
  });
});
