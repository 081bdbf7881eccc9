import * as path from 'node:path';
import type { KsiConfig } from '../../../config/config';
import { ClaudeCliProvider } from './claude-cli.provider';
import type { Turn, TurnProgress } from './completion-provider';

const ROOT = path.resolve(__dirname, '../../../..');
const RECORDED = path.join(ROOT, 'test/fixtures/recorded');
const provider = new ClaudeCliProvider({ claudeBin: path.join(ROOT, 'test/fixtures/replay-claude') } as KsiConfig);

/** Runs the provider on a recorded real run: the replayed stdout, stderr and exit status. */
async function replay(recording: { stdout?: string; stderr?: string; exit: number }) {
  const progress: TurnProgress[] = [];
  const env: Record<string, string> = { REPLAY_EXIT: String(recording.exit) };
  if (recording.stdout) env.REPLAY_STDOUT = path.join(RECORDED, recording.stdout);
  if (recording.stderr) env.REPLAY_STDERR = path.join(RECORDED, recording.stderr);
  const turn: Turn = { requestId: 'r1', prompt: 'hi', model: 'sonnet', sessionId: '11111111-1111-4111-8111-111111111111', resume: false, timeoutMs: 10_000, env };
  const outcome = await provider.run(turn, new AbortController().signal, { spawned: () => undefined, progress: (entry) => progress.push(entry) });
  return { outcome, progress };
}

describe('the recorded real Claude CLI through ClaudeCliProvider', () => {
  it.each([
    ['stream-json, not logged in', { stdout: 'stream-json-not-logged-in.stdout.jsonl', exit: 1 }],
    ['json, not logged in', { stdout: 'json-not-logged-in.stdout.json', exit: 1 }],
    ['a json array (json --verbose), not logged in', { stdout: 'json-verbose-not-logged-in.stdout.json', exit: 1 }],
  ])('%s: auth_error, never retried, with the CLI sentence and no streamed text', async (_name, recording) => {
    const { outcome, progress } = await replay(recording);
    expect(outcome).toMatchObject({ ok: false, code: 'auth_error', retryable: false, message: 'Not logged in · Please run /login' });
    expect(progress).toEqual([]);
  });

  it.each([
    ['stream-json', { stdout: 'stream-json-unknown-session.stdout.jsonl', stderr: 'stream-json-unknown-session.stderr.txt', exit: 1 }],
    ['json', { stderr: 'json-unknown-session.stderr.txt', exit: 1 }],
  ])('%s, unknown --resume: session_not_found, never retried', async (_name, recording) => {
    const { outcome } = await replay(recording);
    expect(outcome).toMatchObject({ ok: false, code: 'session_not_found', retryable: false, message: 'No conversation found with session ID: 00000000-0000-4000-8000-000000000000' });
  });

  it('a --resume value that is no session id: session_not_found with the CLI sentence', async () => {
    const { outcome } = await replay({ stdout: 'stream-json-resume-not-a-uuid.stdout.jsonl', stderr: 'stream-json-resume-not-a-uuid.stderr.txt', exit: 1 });
    expect(outcome).toMatchObject({ ok: false, code: 'session_not_found', retryable: false, message: expect.stringMatching(/^Error: --resume requires a valid session ID/) });
  });

  it('an unreachable API (json): api_unreachable, retried, with the CLI sentence', async () => {
    const { outcome } = await replay({ stdout: 'json-api-unreachable.stdout.json', exit: 1 });
    expect(outcome).toMatchObject({ ok: false, code: 'api_unreachable', retryable: true, message: 'API Error: Unable to connect to API (ConnectionRefused)' });
  });

  it('api_retry lines become progress in order; the interrupted turn is retried', async () => {
    const { outcome, progress } = await replay({ stdout: 'stream-json-api-retry-interrupted.stdout.jsonl', exit: 1 });
    expect(progress).toEqual([1, 2, 3, 4].map((attempt) => ({ status: 'api_retry', api_attempt: attempt, max_retries: 10, retry_delay_ms: expect.any(Number), error: 'unknown', error_status: null })));
    expect(progress.map((entry) => (entry as { retry_delay_ms: number }).retry_delay_ms)).toEqual([592, 1191, 2093, 4730]);
    expect(outcome).toMatchObject({ ok: false, code: 'killed', retryable: true });
  });

  it.each([
    ['stream-json without --verbose', 'stream-json-without-verbose.stderr.txt'],
    ['an unknown option', 'unknown-option.stderr.txt'],
  ])('%s: invalid_request, never retried', async (_name, stderr) => {
    const { outcome } = await replay({ stderr, exit: 1 });
    expect(outcome).toMatchObject({ ok: false, code: 'invalid_request', retryable: false });
  });

  it('keeps the costs a failed run reports', async () => {
    const { outcome } = await replay({ stdout: 'json-not-logged-in.stdout.json', exit: 1 });
    expect(outcome).toMatchObject({ cost: { cost_usd: 0, usage: { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 }, num_turns: 1, duration_api_ms: 0 } });
  });

  it('stops a run whose line passes the limit: invalid_output, not unbounded memory, never retried (a retry pays for the turn again)', async () => {
    class SmallLines extends ClaudeCliProvider {
      protected override readonly maxLineBytes = 100;
    }
    const small = new SmallLines({ claudeBin: path.join(ROOT, 'test/fixtures/replay-claude') } as KsiConfig);
    const env = { REPLAY_STDOUT: path.join(RECORDED, 'json-not-logged-in.stdout.json'), REPLAY_EXIT: '0' };
    const turn: Turn = { requestId: 'r1', prompt: 'hi', model: 'sonnet', sessionId: 's-1', resume: false, timeoutMs: 10_000, env };
    const outcome = await small.run(turn, new AbortController().signal, { spawned: () => undefined, progress: () => undefined });
    expect(outcome).toMatchObject({ ok: false, code: 'invalid_output', retryable: false, message: expect.stringMatching(/longer than 100 bytes/) });
  });
});
