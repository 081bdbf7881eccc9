import { completionError, completionProgress, completionResult } from '../../../libs/client/src';
import { signalsOf, type Relay } from './relay-signals';

/** PostgreSQL's limit on a NOTIFY payload. */
const notifyTakes = (relay: Relay): boolean => Buffer.byteLength(JSON.stringify(relay)) < 8_000;
const deltaOf = (relay: Relay): string => (relay.payload as unknown as { delta: string }).delta;

describe('the signals that relay a push to another node', () => {
  const streaming = (delta: string) => ({ request_id: 'r1', session_id: null, attempt: 1, status: 'streaming', delta });

  it('carry a push that fits as itself, and a result too large by reference', () => {
    const progress = streaming('short');
    expect(signalsOf(completionProgress, progress, false)).toEqual([{ event: 'completion:progress', payload: progress, final: false }]);
    const result = { request_id: 'r1', session_id: 's1', result: { text: 'x'.repeat(20_000) } };
    expect(signalsOf(completionResult, result, true)).toEqual([{ event: 'completion:result', result_of: 'r1', final: true }]);
  });

  it.each([
    ['plain text', 'a'.repeat(10_000)],
    ['control characters, six bytes each once escaped', '\u0001'.repeat(10_000)],
    ['characters of three bytes', '語'.repeat(10_000)],
    ['surrogate pairs, never cut in two', '🙂'.repeat(5_000)],
    ['surrogate pairs after an odd prefix', `x${'🙂'.repeat(5_000)}`],
  ])('cut streamed text into pieces NOTIFY takes, which join back into it: %s', (_name, text) => {
    const signals = signalsOf(completionProgress, streaming(text), false);
    expect(signals.length).toBeGreaterThan(1);
    for (const signal of signals) {
      expect(notifyTakes(signal)).toBe(true);
      // A lone surrogate would become U+FFFD on the way.
      expect(Buffer.from(deltaOf(signal)).toString()).toBe(deltaOf(signal));
    }
    expect(signals.map(deltaOf).join('')).toBe(text);
  });

  it('cut a long error to one signal NOTIFY takes, marked as cut', () => {
    const error = '\u0002'.repeat(5_000);
    const failure = { request_id: 'r1', session_id: null, error, code: 'internal_error', attempts: 1 };
    const signals = signalsOf(completionError, failure, true);
    expect(signals).toHaveLength(1);
    expect(notifyTakes(signals[0])).toBe(true);
    const cut = (signals[0].payload as unknown as { error: string }).error;
    expect(cut.endsWith('…')).toBe(true);
    expect(error.startsWith(cut.slice(0, -1))).toBe(true);
    expect(cut.length).toBeGreaterThan(500);
  });
});
