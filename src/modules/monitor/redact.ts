const SECRET_KEY = /token|secret|password|authorization|api[_-]?key/i;

/** Values under secret-looking keys never leave the daemon: not in streams, not in the event log. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 4 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = SECRET_KEY.test(key) ? '[redacted]' : redact(item, depth + 1);
  return out;
}

/** The same rule as a JSON.stringify replacer: one pass, no copies (the event log's hot path). */
export function redactSecrets(key: string, value: unknown): unknown {
  return key !== '' && SECRET_KEY.test(key) ? '[redacted]' : value;
}
