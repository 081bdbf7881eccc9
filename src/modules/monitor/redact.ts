/**
 * Keys whose values are secrets: a token (`token`, `auth_token`, `accessToken`, but not the counters
 * `input_tokens`, `max_tokens`), a secret, a password, credentials, authorization, an API or private key.
 */
const SECRET_KEY = /token$|secret|password|passwd|credential|authorization|api[_-]?key|private[_-]?key/i;
/**
 * The same words as they appear in JSON text: a key ending in "token" is followed by `":`, which a
 * string value never is (its quotes inside would be escaped).
 */
const SECRET_KEY_IN_JSON = /token":|secret|password|passwd|credential|authorization|api[_-]?key|private[_-]?key/i;

const redactSecrets = (key: string, value: unknown): unknown => (key !== '' && SECRET_KEY.test(key) ? '[redacted]' : value);

/** What is recorded of data larger than the limit: its size, not its content. */
export function truncationMarker(json: string): string {
  return `{"_truncated":true,"bytes":${Buffer.byteLength(json)}}`;
}

/**
 * Redacted JSON of an event's data, or the truncation marker when it is larger than `maxBytes`; for
 * the event log and the monitor's streams. V8's plain JSON.stringify is several times faster than one
 * with a replacer, and JSON without a secret-looking word anywhere has no secret key either, so the
 * replacer runs only when the plain text mentions one.
 */
export function toRecordedJson(value: unknown, maxBytes: number): string {
  const json = JSON.stringify(value) ?? 'null';
  // UTF-8 takes at most 3 bytes per UTF-16 unit: only text that long needs counting.
  if (json.length * 3 > maxBytes && Buffer.byteLength(json) > maxBytes) return truncationMarker(json);
  return SECRET_KEY_IN_JSON.test(json) ? JSON.stringify(value, redactSecrets) : json;
}
