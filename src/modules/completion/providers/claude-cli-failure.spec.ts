import * as fs from 'node:fs';
import * as path from 'node:path';
import { classifyCliFailure, type CliRunReport } from './claude-cli-failure';

const RECORDED = path.resolve(__dirname, '../../../../test/fixtures/recorded');
const recorded = (file: string): Record<string, unknown> => JSON.parse(fs.readFileSync(path.join(RECORDED, file), 'utf8'));
const exited = { code: 1, signal: null };
const run = (fields: Partial<CliRunReport>): CliRunReport => ({ exit: exited, stderr: '', plainStdout: '', ...fields });
/** A real error result with other fields: the reason and the status are what the CLI would say. */
const apiError = (result: string, status: number | null) => ({ ...recorded('json-api-unreachable.stdout.json'), result, api_error_status: status });

describe('classifyCliFailure', () => {
  it('reads the not-logged-in result as a permanent auth_error with its sentence', () => {
    expect(classifyCliFailure(run({ result: recorded('json-not-logged-in.stdout.json') }))).toEqual({ code: 'auth_error', message: 'Not logged in · Please run /login', retryable: false });
  });

  it('never reads numbers of unrelated fields: a duration of 401 ms is no authentication failure', () => {
    const result = { ...apiError('API Error: Unable to connect to API (ConnectionRefused)', null), duration_ms: 401, duration_api_ms: 400, num_turns: 429 };
    expect(classifyCliFailure(run({ result }))).toEqual({ code: 'api_unreachable', message: 'API Error: Unable to connect to API (ConnectionRefused)', retryable: true });
  });

  it.each([
    ['a 401', 401, 'auth_error', false],
    ['a 403', 403, 'auth_error', false],
    ['a 400', 400, 'invalid_request', false],
    ['a 429', 429, 'rate_limited', true],
    ['a 529', 529, 'overloaded', true],
    ['a 500', 500, 'api_error', true],
  ] as const)('reads api_error_status: %s is %s', (_name, status, code, retryable) => {
    expect(classifyCliFailure(run({ result: apiError('API Error: something happened', status) }))).toMatchObject({ code, retryable, message: 'API Error: something happened' });
  });

  it('reads a turn stopped at --max-budget-usd as a permanent max_budget_reached, in the CLI\'s words', () => {
    // The real CLI's result when the turn's cost reaches the cap: subtype, is_error and errors as 2.1.197 prints them.
    const result = { ...apiError('', null), result: undefined, subtype: 'error_max_budget_usd', total_cost_usd: 0.4, errors: ['Reached maximum budget ($0.2)'] };
    expect(classifyCliFailure(run({ result }))).toEqual({ code: 'max_budget_reached', message: 'Reached maximum budget ($0.2)', retryable: false });
  });

  it('honours the reset time of a usage limit', () => {
    expect(classifyCliFailure(run({ result: apiError('Claude AI usage limit reached|1764000000', 429) }))).toEqual({
      code: 'rate_limited',
      message: 'Claude AI usage limit reached|1764000000',
      retryable: true,
      retryAt: 1_764_000_000_000,
    });
  });

  it.each([
    ['authentication_failed', 'auth_error', false],
    ['billing_error', 'billing_error', false],
    ['rate_limit', 'rate_limited', true],
    ['invalid_request', 'invalid_request', false],
    ['server_error', 'api_error', true],
  ] as const)("reads a synthetic assistant message's error %s as %s", (assistantError, code, retryable) => {
    expect(classifyCliFailure(run({ result: apiError('API Error: something happened', null), assistantError }))).toMatchObject({ code, retryable });
  });

  it('a turn limit is permanent: max_turns', () => {
    const result = { ...recorded('stream-json-unknown-session.stdout.jsonl'), subtype: 'error_max_turns', num_turns: 3, errors: [] };
    expect(classifyCliFailure(run({ result }))).toEqual({ code: 'max_turns', message: 'Claude reached the maximum number of turns (3) before finishing', retryable: false });
  });

  it.each([
    ['the recorded stderr', { stderr: fs.readFileSync(path.join(RECORDED, 'json-unknown-session.stderr.txt'), 'utf8') }],
    ['the recorded result errors', { result: recorded('stream-json-unknown-session.stdout.jsonl') }],
  ])('an unknown session is permanent, from %s', (_name, fields) => {
    expect(classifyCliFailure(run(fields))).toEqual({ code: 'session_not_found', message: 'No conversation found with session ID: 00000000-0000-4000-8000-000000000000', retryable: false });
  });

  it('a process killed by a signal is retried', () => {
    expect(classifyCliFailure(run({ exit: { code: null, signal: 'SIGKILL' } }))).toEqual({ code: 'killed', message: 'Claude CLI was killed by SIGKILL', retryable: true });
  });

  it('any other is_error result is retried as cli_error_result, its errors the message', () => {
    const result = { ...recorded('stream-json-unknown-session.stdout.jsonl'), errors: ['Something went wrong in the tool loop'] };
    expect(classifyCliFailure(run({ result }))).toEqual({ code: 'cli_error_result', message: 'Something went wrong in the tool loop', retryable: true });
  });

  it("never reads the answer of a successful result: a non-zero exit after it is cli_failed, retried", () => {
    const answer = { type: 'result', subtype: 'success', is_error: false, result: 'You are not logged in? Please run /login, then Claude AI usage limit reached|1764000000', errors: ['overloaded'] };
    expect(classifyCliFailure(run({ result: answer }))).toEqual({ code: 'cli_failed', message: 'Claude CLI exited with status 1 and printed no reason', retryable: true });
    expect(classifyCliFailure(run({ result: answer, stderr: 'Segmentation fault\n' }))).toEqual({ code: 'cli_failed', message: 'Segmentation fault', retryable: true });
  });

  it('a non-zero exit without a result is retried as cli_failed, its stderr the message', () => {
    expect(classifyCliFailure(run({ stderr: 'Segmentation fault\n' }))).toEqual({ code: 'cli_failed', message: 'Segmentation fault', retryable: true });
    expect(classifyCliFailure(run({}))).toEqual({ code: 'cli_failed', message: 'Claude CLI exited with status 1 and printed no reason', retryable: true });
  });
});
