/**
 * Limits on what a request line may contain beyond being JSON, checked on the line's text so that
 * ordinary requests pay a native string search or two, not a walk of every value.
 */

/** Levels of arrays and objects a request's `data` may nest (the README documents it). */
export const MAX_DATA_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** True when arrays and objects in the JSON text nest more than `limit` levels deep. */
export function nestsDeeperThan(json: string, limit: number): boolean {
  // Text shorter than limit + 1 pairs of brackets, or with at most `limit` opening ones (inside
  // strings or not), cannot nest deeper.
  if (json.length < 2 * (limit + 1) || openingsUpTo(json, limit + 1) <= limit) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return false;
}

function openingsUpTo(json: string, most: number): number {
  let count = 0;
  for (let at = json.indexOf('{'); at !== -1 && count < most; at = json.indexOf('{', at + 1)) count++;
  for (let at = json.indexOf('['); at !== -1 && count < most; at = json.indexOf('[', at + 1)) count++;
  return count;
}

/**
 * A number JSON.parse turns into ±Infinity has a three-digit exponent, or over 200 digits before a
 * two-digit one (10^(digits + exponent) must pass 10^308); text with neither (nearly every line)
 * needs no walk of the parsed value. (Two expressions: one with the alternation costs twice as much.)
 */
const THREE_DIGIT_EXPONENT = /[eE]\+?\d{3}/;
const LONG_DIGITS = /\d{200}/;

/** True when the parsed value holds ±Infinity (JSON text such as `1e400`), which JSON cannot carry back. */
export function holdsNonFiniteNumber(json: string, parsed: unknown): boolean {
  if (!THREE_DIGIT_EXPONENT.test(json) && !LONG_DIGITS.test(json)) return false;
  const pending: unknown[] = [parsed];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return true;
    } else if (typeof value === 'object' && value !== null) {
      for (const item of Array.isArray(value) ? value : Object.values(value)) pending.push(item);
    }
  }
  return false;
}
