import { isErrorResult } from '../../libs/client/src';

const useColour = () => process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number) => (text: string) => (useColour() ? `\u001b[${code}m${text}\u001b[0m` : text);
export const bold = paint(1);
export const dim = paint(2);
export const red = paint(31);
export const green = paint(32);

const NAMESPACE_COLOURS = [36, 33, 35, 32, 34, 91, 96, 93];

/** A stable colour per namespace, so a stream of events is easy to scan. */
export function colourByNamespace(event: string): string {
  if (!useColour()) return event;
  const namespace = event.split(':')[0];
  let hash = 0;
  for (const char of namespace) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return paint(NAMESPACE_COLOURS[hash % NAMESPACE_COLOURS.length])(event);
}

/** Renders a reply's data for people: objects as `key: value` lines, arrays as numbered responses. */
export function pretty(data: unknown): string {
  if (Array.isArray(data)) {
    if (data.length === 0) return dim('No response (no handler returned a result)');
    if (data.length === 1) return pretty(data[0]);
    return [`Multiple responses (${data.length}):`, ...data.map((item, i) => `${bold(`Response ${i + 1}:`)}\n${indent(pretty(item))}`)].join('\n');
  }
  if (isErrorResult(data)) return red(`Error${data.code ? ` (${data.code})` : ''}: ${data.error}`);
  if (typeof data !== 'object' || data === null) return String(data);
  return Object.entries(data)
    .map(([key, value]) => {
      if (typeof value === 'object' && value !== null) {
        const json = JSON.stringify(value, null, 2);
        return json.length <= 60 && !json.includes('\n  {') ? `${bold(`${key}:`)} ${JSON.stringify(value)}` : `${bold(`${key}:`)}\n${indent(json)}`;
      }
      return `${bold(`${key}:`)} ${value}`;
    })
    .join('\n');
}

export function indent(text: string, by = '  '): string {
  return text
    .split('\n')
    .map((line) => by + line)
    .join('\n');
}

/** Aligned columns; the last column is not padded. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => stripAnsi(row[col] ?? '').length)));
  return rows.map((row) => row.map((cell, col) => (col === row.length - 1 ? cell : cell + ' '.repeat(widths[col] - stripAnsi(cell).length))).join('  ')).join('\n');
}

function stripAnsi(text: string): string {
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}
