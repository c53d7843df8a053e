import { describe, expect, it } from 'vitest';
import { ApiError, fieldErrors } from './errors';

describe('fieldErrors', () => {
  it('flattens validation errors nested by location', () => {
    const errors = { json: { email: ['Not a valid email address.'], password: ['At least 8 characters.', 'Mix letters with digits or symbols.'] } };
    expect(fieldErrors(errors)).toEqual({ email: ['Not a valid email address.'], password: ['At least 8 characters.', 'Mix letters with digits or symbols.'] });
  });

  it('reads conflicts that name the field directly', () => {
    expect(fieldErrors({ username: ['Taken.'] })).toEqual({ username: ['Taken.'] });
  });

  it('names nested fields with dots and keeps whole-body errors apart', () => {
    const errors = { json: { settings: { fee_crypto: ['Must be between 0 and 0.1.'] }, _schema: ['Give either an action or a symbol_id.'] } };
    expect(fieldErrors(errors)).toEqual({ 'settings.fee_crypto': ['Must be between 0 and 0.1.'], _general: ['Give either an action or a symbol_id.'] });
  });

  it('accepts empty and odd shapes', () => {
    expect(fieldErrors({})).toEqual({});
    expect(fieldErrors(null)).toEqual({});
    expect(fieldErrors({ query: { start: 'Must be before end.' } })).toEqual({ start: ['Must be before end.'] });
  });
});

describe('ApiError', () => {
  it('gives a field its message and lists the rest', () => {
    const err = new ApiError(422, 'Invalid input: username, email', { json: { username: ['3-32 characters'], email: ['Bad.'], captcha: ['Missing.'] } });
    expect(err.field('username')).toBe('3-32 characters');
    expect(err.field('password')).toBeUndefined();
    expect(err.unclaimed(['username', 'email'])).toEqual(['captcha: Missing.']);
  });
});
