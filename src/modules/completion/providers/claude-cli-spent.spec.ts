import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { KsiConfig } from '../../../config/config';
import { ClaudeCliProvider } from './claude-cli.provider';
import type { Turn, TurnObserver } from './completion-provider';

const ROOT = path.resolve(__dirname, '../../../..');
const INTERRUPTED = path.join(ROOT, 'test/fixtures/recorded/stream-json-api-retry-interrupted.stdout.jsonl');
const provider = new ClaudeCliProvider({ claudeBin: path.join(ROOT, 'test/fixtures/replay-claude') } as KsiConfig);
const turn = (env: Record<string, string>, timeoutMs = 30_000): Turn => ({ requestId: 'r1', prompt: 'hi', model: 'sonnet', sessionId: 's-1', resume: false, timeoutMs, env });
const quiet: TurnObserver = { spawned: () => undefined, progress: () => undefined };
/** What the recorded interrupted run's result line reports. */
const INTERRUPTED_COST = { cost_usd: 0, usage: { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 }, num_turns: 2, duration_api_ms: 0 };

describe('ClaudeCliProvider keeps what a turn spent whenever a result line was printed', () => {
  it('on cancel', async () => {
    const cancel = new AbortController();
    // The recording's last api_retry comes in the same write as its result line.
    const observer: TurnObserver = { spawned: () => undefined, progress: (entry) => entry.status === 'api_retry' && entry.api_attempt === 4 && cancel.abort() };
    const outcome = await provider.run(turn({ REPLAY_STDOUT: INTERRUPTED, REPLAY_HOLD_MS: '60000' }), cancel.signal, observer);
    expect(outcome).toEqual({ ok: false, code: 'cancelled', message: 'Cancelled', retryable: false, cost: INTERRUPTED_COST, durationMs: expect.any(Number) });
  });

  it('on timeout', async () => {
    const outcome = await provider.run(turn({ REPLAY_STDOUT: INTERRUPTED, REPLAY_HOLD_MS: '60000' }, 3_000), new AbortController().signal, quiet);
    expect(outcome).toMatchObject({ ok: false, code: 'timeout', retryable: true, cost: INTERRUPTED_COST });
  });

  it('on an unusable session_id', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksi-spent-'));
    try {
      const stdout = path.join(dir, 'result.jsonl');
      const usage = { input_tokens: 5, output_tokens: 7, cache_read_input_tokens: 3, cache_creation_input_tokens: 2 };
      fs.writeFileSync(stdout, `${JSON.stringify({ type: 'result', subtype: 'success', is_error: false, result: 'hi', session_id: '../elsewhere', total_cost_usd: 0.25, usage, num_turns: 1, duration_api_ms: 7 })}\n`);
      const outcome = await provider.run(turn({ REPLAY_STDOUT: stdout }), new AbortController().signal, quiet);
      expect(outcome).toMatchObject({ ok: false, code: 'invalid_output', cost: { cost_usd: 0.25, usage, num_turns: 1, duration_api_ms: 7 } });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
