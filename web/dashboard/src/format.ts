/** Dollars as people read them: cents, or four places below a cent. */
export function usd(amount: number): string {
  return amount >= 0.01 || amount === 0 ? `$${amount.toFixed(2)}` : `$${amount.toFixed(4)}`;
}

/** "12s ago", "in 3m": epoch seconds against now. */
export function relative(epochSeconds: number, now = Date.now() / 1000): string {
  const seconds = Math.round(epochSeconds - now);
  const size = Math.abs(seconds);
  const text = size < 60 ? `${size}s` : size < 3600 ? `${Math.round(size / 60)}m` : size < 86_400 ? `${Math.round(size / 3600)}h` : `${Math.round(size / 86_400)}d`;
  return seconds <= 0 ? `${text} ago` : `in ${text}`;
}

const two = (value: number) => String(value).padStart(2, '0');

/** The time of day to the millisecond, in the browser's zone: HH:MM:SS.mmm. */
export function clock(epochSeconds: number): string {
  const at = new Date(epochSeconds * 1000);
  return `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}.${String(at.getMilliseconds()).padStart(3, '0')}`;
}

export function short(id: string | null | undefined, length = 8): string {
  return id ? id.slice(0, length) : '–';
}
