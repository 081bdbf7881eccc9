const SECRET_KEY = /token|secret|password|authorization|api[_-]?key/i;

/** Values under secret-looking keys never leave the daemon: not in streams, not in the event log. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 4 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = SECRET_KEY.test(key) ? '[redacted]' : redact(item, depth + 1);
  return out;
}

const redactSecrets = (key: string, value: unknown): unknown => (key !== '' && SECRET_KEY.test(key) ? '[redacted]' : value);

/**
 * The same rule while serialising (the event log's hot path): V8's plain JSON.stringify is several
 * times faster than one with a replacer, and JSON without a secret-looking word anywhere has no
 * secret-looking key either, so the replacer runs only when the plain text mentions one.
 */
export function toRedactedJson(value: unknown): string {
  const json = JSON.stringify(value) ?? 'null';
  return SECRET_KEY.test(json) ? JSON.stringify(value, redactSecrets) : json;
}
