import type { BudgetPeriod } from '../../../libs/client/src';

/** The current period of a budget around `now` (epoch ms): UTC calendar days and months; total has no bounds. */
export function periodBounds(period: BudgetPeriod, now: number): { start: number; end: number | null } {
  if (period === 'total') return { start: 0, end: null };
  const at = new Date(now);
  if (period === 'day') {
    const start = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
    return { start, end: Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate() + 1) };
  }
  return { start: Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1), end: Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1) };
}
