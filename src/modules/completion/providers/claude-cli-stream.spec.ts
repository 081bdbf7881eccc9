import { ClaudeCliStream } from './claude-cli-stream';
import type { TurnProgress } from './completion-provider';

const partial = (event: Record<string, unknown>) => JSON.stringify({ type: 'stream_event', event, session_id: 's', parent_tool_use_id: null, uuid: 'u' });
const assistant = (id: string, content: unknown[], extra: Record<string, unknown> = {}) => JSON.stringify({ type: 'assistant', message: { id, type: 'message', role: 'assistant', content }, session_id: 's', ...extra });

function read(lines: string[]) {
  const progress: TurnProgress[] = [];
  const stream = new ClaudeCliStream((entry) => progress.push(entry));
  for (const line of lines) stream.line(line);
  return { stream, progress };
}

describe('ClaudeCliStream', () => {
  it('streams partial text deltas and does not repeat them from the final assistant message', () => {
    const { progress } = read([
      partial({ type: 'message_start', message: { id: 'm1', content: [] } }),
      partial({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hel' } }),
      partial({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'lo' } }),
      assistant('m1', [{ type: 'text', text: 'Hello' }]),
    ]);
    expect(progress).toEqual([
      { status: 'streaming', delta: 'Hel' },
      { status: 'streaming', delta: 'lo' },
    ]);
  });

  it('streams the text of assistant messages that came without partial events, and their tool uses', () => {
    const { progress } = read([assistant('m1', [{ type: 'text', text: 'Let me look.' }, { type: 'tool_use', id: 'toolu_1', name: 'Read', input: {} }]), assistant('m2', [{ type: 'text', text: 'Done.' }])]);
    expect(progress).toEqual([
      { status: 'streaming', delta: 'Let me look.' },
      { status: 'tool_use', tool: 'Read', tool_use_id: 'toolu_1' },
      { status: 'streaming', delta: 'Done.' },
    ]);
  });

  it("keeps a synthetic assistant message's error and does not stream its sentence", () => {
    const { stream, progress } = read([assistant('m1', [{ type: 'text', text: 'Not logged in · Please run /login' }], { error: 'authentication_failed' })]);
    expect(progress).toEqual([]);
    expect(stream.assistantError).toBe('authentication_failed');
  });

  it('keeps the result line, and the last result of a JSON array', () => {
    expect(read(['{"type":"result","result":"one"}']).stream.result).toEqual({ type: 'result', result: 'one' });
    expect(read(['[{"type":"system","subtype":"init"},{"type":"result","result":"two"}]']).stream.result).toEqual({ type: 'result', result: 'two' });
  });

  it('keeps the end of what was not JSON', () => {
    expect(read(['<html>', 'not json</html>']).stream.plainText).toBe('<html>\nnot json</html>\n');
  });
});
