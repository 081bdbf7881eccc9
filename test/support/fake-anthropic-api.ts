import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the fake answers one request. */
export type FakeAnswer =
  /** A streamed reply: its text in these chunks (default: `echo: <prompt>` in two chunks), optional tool use first. */
  | { kind: 'reply'; chunks?: string[]; toolUse?: { id: string; name: string }; usage?: Record<string, number>; model?: string }
  /** An HTTP error with the API's error body. */
  | { kind: 'error'; status: number; type: string; message: string; headers?: Record<string, string> }
  /** Starts the stream, then says nothing more until the client goes away. */
  | { kind: 'hang' };

export interface RecordedRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: { model: string; max_tokens: number; stream: boolean; system?: string; messages: { role: string; content: unknown }[] };
  /** When the request arrived and, for errors, when the answer was sent (epoch ms). */
  receivedAt: number;
  answeredAt?: number;
  /** Set when the client closed the connection before the answer was complete. */
  closedByClient: boolean;
}

const sse = (type: string, data: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

/**
 * A local HTTP server that speaks the Messages API's streaming format (`POST /v1/messages` with
 * `stream: true`, answered as server-sent events), records every request, and answers each with
 * the next scripted answer (a reply echoing the prompt when none is scripted).
 */
export class FakeAnthropicApi {
  readonly requests: RecordedRequest[] = [];
  private readonly script: FakeAnswer[] = [];
  private readonly server = http.createServer((request, response) => void this.answer(request, response));
  private readonly open = new Set<http.ServerResponse>();

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The answers to the next requests, in order. */
  next(...answers: FakeAnswer[]): void {
    this.script.push(...answers);
  }

  async stop(): Promise<void> {
    for (const response of this.open) response.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async answer(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of request) raw += chunk;
    const recorded: RecordedRequest = { path: request.url ?? '', headers: request.headers, body: JSON.parse(raw), receivedAt: Date.now(), closedByClient: false };
    this.requests.push(recorded);
    this.open.add(response);
    response.on('close', () => {
      this.open.delete(response);
      if (!response.writableFinished) recorded.closedByClient = true;
    });
    const answer = this.script.shift() ?? { kind: 'reply' };
    if (answer.kind === 'error') {
      response.writeHead(answer.status, { 'content-type': 'application/json', 'request-id': 'req_fake', ...answer.headers });
      recorded.answeredAt = Date.now();
      response.end(JSON.stringify({ type: 'error', error: { type: answer.type, message: answer.message }, request_id: 'req_fake' }));
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': 'req_fake' });
    const model = answer.kind === 'reply' && answer.model ? answer.model : recorded.body.model;
    const usage = { input_tokens: 0, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, ...(answer.kind === 'reply' ? answer.usage : {}) };
    const message = { id: 'msg_fake', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage };
    response.write(sse('message_start', { message }));
    response.write(sse('ping', {}));
    if (answer.kind === 'hang') {
      response.write(sse('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }));
      response.write(sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'thinking about it' } }));
      return;
    }
    let index = 0;
    if (answer.toolUse) {
      response.write(sse('content_block_start', { index, content_block: { type: 'tool_use', id: answer.toolUse.id, name: answer.toolUse.name, input: {} } }));
      response.write(sse('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: '{}' } }));
      response.write(sse('content_block_stop', { index }));
      index++;
    }
    const chunks = answer.chunks ?? ['echo: ', promptOf(recorded.body.messages)];
    response.write(sse('content_block_start', { index, content_block: { type: 'text', text: '' } }));
    for (const text of chunks) response.write(sse('content_block_delta', { index, delta: { type: 'text_delta', text } }));
    response.write(sse('content_block_stop', { index }));
    response.write(sse('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: usage.output_tokens + chunks.length } }));
    response.end(sse('message_stop', {}));
  }
}

/** The text of the last user message. */
function promptOf(messages: { role: string; content: unknown }[]): string {
  const last = messages.filter((message) => message.role === 'user').pop();
  return typeof last?.content === 'string' ? last.content : JSON.stringify(last?.content);
}
