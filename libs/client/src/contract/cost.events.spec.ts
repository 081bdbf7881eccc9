import { parseSince } from './cost.events';

describe('parseSince', () => {
  const now = Date.UTC(2026, 0, 31, 12, 0, 0);

  it('reads a time ago in minutes, hours, days or weeks', () => {
    expect(parseSince('30m', now)).toBe(now - 30 * 60_000);
    expect(parseSince('12h', now)).toBe(now - 12 * 3_600_000);
    expect(parseSince('1.5d', now)).toBe(now - 36 * 3_600_000);
    expect(parseSince('2w', now)).toBe(now - 14 * 86_400_000);
    expect(parseSince(' 2 w ', now)).toBe(now - 14 * 86_400_000);
  });

  it('reads ISO dates and date-times as UTC unless they name a zone', () => {
    expect(parseSince('2026-01-05', now)).toBe(Date.UTC(2026, 0, 5));
    expect(parseSince('2026-01-05T09:30', now)).toBe(Date.UTC(2026, 0, 5, 9, 30));
    expect(parseSince('2026-01-05 09:30:15', now)).toBe(Date.UTC(2026, 0, 5, 9, 30, 15));
    expect(parseSince('2026-01-05T09:30Z', now)).toBe(Date.UTC(2026, 0, 5, 9, 30));
    expect(parseSince('2026-01-05T09:30:00+02:00', now)).toBe(Date.UTC(2026, 0, 5, 7, 30));
  });

  it('reads a number as Unix epoch seconds', () => {
    expect(parseSince(1767225600, now)).toBe(1767225600_000);
    expect(parseSince(0, now)).toBe(0);
  });

  it('refuses what is not a time', () => {
    for (const value of ['yesterday', '7 days', '2026-13-45', '2026-01-05T25:00', '5', '', '-3d']) expect(parseSince(value, now)).toBeUndefined();
    for (const value of [-1, Number.NaN, Number.POSITIVE_INFINITY]) expect(parseSince(value, now)).toBeUndefined();
    // Milliseconds (Date.now()) read as seconds would be a date 50,000 years ahead and select nothing.
    expect(parseSince(1767225600_000, now)).toBeUndefined();
  });
});
