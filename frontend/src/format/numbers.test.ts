import { describe, expect, it } from 'vitest';
import { decimalsForMagnitude, decimalsOfTick, formatMoney, formatPct, formatPrice, formatQuantity, priceDecimals } from './numbers';

describe('prices', () => {
  it('prints stocks to the cent', () => {
    expect(formatPrice(136.2, 'stock')).toBe('136.20');
    expect(formatPrice(1234.5, 'stock')).toBe('1,234.50');
    expect(priceDecimals(0.5, 'stock')).toBe(4);
  });

  it('prints crypto to its tick size when known', () => {
    expect(decimalsOfTick(0.01)).toBe(2);
    expect(decimalsOfTick(0.0005)).toBe(4);
    expect(decimalsOfTick(1e-8)).toBe(8);
    expect(decimalsOfTick(2.5e-7)).toBe(8);
    expect(decimalsOfTick(1)).toBe(0);
    expect(formatPrice(0.123456, 'crypto', 0.0001)).toBe('0.1235');
  });

  it('derives crypto decimals from the magnitude without a tick size', () => {
    expect(formatPrice(9134.01, 'crypto')).toBe('9,134.01'); // BTC: 2
    expect(decimalsForMagnitude(2500)).toBe(2); // ETH
    expect(decimalsForMagnitude(15.3)).toBe(3);
    expect(decimalsForMagnitude(1.5)).toBe(4);
    expect(decimalsForMagnitude(0.5)).toBe(5); // XRP-like
    expect(decimalsForMagnitude(0.00001234)).toBe(9); // SHIB-like
    expect(formatPrice(0.00001234, 'crypto')).toBe('0.000012340');
  });

  it('shows a dash for missing numbers', () => {
    expect(formatPrice(null, 'stock')).toBe('—');
    expect(formatPct(undefined)).toBe('—');
    expect(formatMoney(Number.NaN)).toBe('—');
  });
});

describe('percentages and money', () => {
  it('signs percentages', () => {
    expect(formatPct(1.234)).toBe('+1.23 %');
    expect(formatPct(-0.4)).toBe('-0.40 %');
    expect(formatPct(0)).toBe('0.00 %');
  });

  it('formats money, signed for PnL', () => {
    expect(formatMoney(10000)).toBe('$10,000.00');
    expect(formatMoney(12.345, true)).toBe('+$12.35');
    expect(formatMoney(-7.04, true)).toBe('-$7.04');
  });

  it('formats quantities per asset class', () => {
    expect(formatQuantity(7, 'stock')).toBe('7');
    expect(formatQuantity(0.067069, 'crypto')).toBe('0.067069');
  });
});
