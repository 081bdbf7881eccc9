import { periodBounds } from './budget-period';

describe('a budget period', () => {
  const now = Date.UTC(2026, 11, 31, 23, 59, 30);

  it('total has no bounds', () => {
    expect(periodBounds('total', now)).toEqual({ start: 0, end: null });
  });

  it('a day is the UTC calendar day, ending at the next midnight', () => {
    expect(periodBounds('day', now)).toEqual({ start: Date.UTC(2026, 11, 31), end: Date.UTC(2027, 0, 1) });
  });

  it('a month is the UTC calendar month, across a year end', () => {
    expect(periodBounds('month', now)).toEqual({ start: Date.UTC(2026, 11, 1), end: Date.UTC(2027, 0, 1) });
    expect(periodBounds('month', Date.UTC(2027, 1, 28, 12))).toEqual({ start: Date.UTC(2027, 1, 1), end: Date.UTC(2027, 2, 1) });
  });
});
