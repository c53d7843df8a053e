// Numbers as a trader reads them: stocks to the cent, crypto to its tick size (or, without one,
// to about five significant digits), percentages signed.
import type { AssetClass } from '../api/types';

/** Decimals a tick size implies: 0.01 → 2, 0.0005 → 4, 1 → 0. */
export function decimalsOfTick(tick: number): number {
  if (!(tick > 0)) return 2;
  const text = tick.toString();
  if (text.includes('e-')) return Number(text.split('e-')[1]) + (text.split('e-')[0].split('.')[1]?.length ?? 0);
  return text.split('.')[1]?.length ?? 0;
}

/** Decimals for a price of this magnitude when no tick size is known: BTC 2, XRP 4-5, SHIB 9. */
export function decimalsForMagnitude(price: number): number {
  const abs = Math.abs(price);
  if (!Number.isFinite(abs) || abs === 0) return 2;
  return Math.min(10, Math.max(2, 4 - Math.floor(Math.log10(abs))));
}

export function priceDecimals(price: number, assetClass: AssetClass | undefined, tickSize?: number | null): number {
  if (tickSize && tickSize > 0) return decimalsOfTick(tickSize);
  if (assetClass === 'crypto') return decimalsForMagnitude(price);
  // Stocks and indices trade in cents; a penny stock under $1 gets sub-cent precision.
  return Math.abs(price) > 0 && Math.abs(price) < 1 ? 4 : 2;
}

const cache = new Map<string, Intl.NumberFormat>();
function nf(key: string, make: () => Intl.NumberFormat): Intl.NumberFormat {
  let f = cache.get(key);
  if (!f) {
    f = make();
    cache.set(key, f);
  }
  return f;
}

function fixed(value: number, decimals: number, signed = false): string {
  return nf(`f${decimals}${signed}`, () =>
    new Intl.NumberFormat('en-US', {
      minimumFractionDigits: decimals,
      maximumFractionDigits: decimals,
      signDisplay: signed ? 'exceptZero' : 'auto',
    }),
  ).format(value);
}

export function formatPrice(price: number | null | undefined, assetClass?: AssetClass, tickSize?: number | null): string {
  if (price == null || !Number.isFinite(price)) return '—';
  return fixed(price, priceDecimals(price, assetClass, tickSize));
}

/** A signed percentage: `+1.23 %`, `-0.40 %`, `0.00 %`. `value` is already in percent. */
export function formatPct(value: number | null | undefined, decimals = 2): string {
  if (value == null || !Number.isFinite(value)) return '—';
  return `${fixed(value, decimals, true)} %`;
}

/** A fraction (0.42) as a percentage (`42.0 %`), unsigned. */
export function formatRatio(value: number | null | undefined, decimals = 1): string {
  if (value == null || !Number.isFinite(value)) return '—';
  return `${fixed(value * 100, decimals)} %`;
}

/** Money in the portfolio's currency: `$10,000.00`; `signed` adds + for gains. */
export function formatMoney(value: number | null | undefined, signed = false, currency = 'USD'): string {
  if (value == null || !Number.isFinite(value)) return '—';
  return nf(`m${currency}${signed}`, () =>
    new Intl.NumberFormat('en-US', { style: 'currency', currency, signDisplay: signed ? 'exceptZero' : 'auto' }),
  ).format(value);
}

/** Quantities: whole shares as integers, crypto units to 6 decimals without trailing zeros. */
export function formatQuantity(qty: number | null | undefined, assetClass?: AssetClass): string {
  if (qty == null || !Number.isFinite(qty)) return '—';
  if (assetClass !== 'crypto' && Number.isInteger(qty)) return fixed(qty, 0);
  return nf('q', () => new Intl.NumberFormat('en-US', { maximumFractionDigits: 6 })).format(qty);
}

/** Volume, compact: 27.9M, 827.25. */
export function formatVolume(volume: number | null | undefined): string {
  if (volume == null || !Number.isFinite(volume)) return '—';
  if (Math.abs(volume) < 10_000) return nf('v', () => new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 })).format(volume);
  return nf('vc', () => new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 })).format(volume);
}

export function formatSigned(value: number | null | undefined, decimals = 2): string {
  if (value == null || !Number.isFinite(value)) return '—';
  return fixed(value, decimals, true);
}

/** Where a number sits for colouring: up, down or flat. */
export function trend(value: number | null | undefined): 'up' | 'down' | 'flat' {
  if (value == null || !Number.isFinite(value) || value === 0) return 'flat';
  return value > 0 ? 'up' : 'down';
}
