import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { eventually } from '../../test/support/daemon-process';
import { RawConnection } from '../../test/support/raw-connection';
import type { ContractCheck } from '../events/contract-check';
import type { Dispatcher, PreparedRequest } from '../events/dispatcher';
import { Connection } from './connection';

/**
 * A Connection on a real Unix socket, in front of a dispatcher whose requests the test answers by
 * hand: which lines run while earlier replies are awaited, and in which order replies go out.
 * Lines are `{"id": "...", "write": true|false}`; a write stands for an ordered write (state:set).
 */
class HeldDispatcher {
  readonly started: string[] = [];
  private readonly held = new Map<string, (line: string) => void>();

  prepare(line: string): PreparedRequest {
    const { id, write } = JSON.parse(line) as { id: string; write: boolean };
    return { context: { event: id, correlationId: id }, handlers: [], data: { id }, writesInOrder: write };
  }

  run({ data }: PreparedRequest): Promise<string> {
    const { id } = data as { id: string };
    this.started.push(id);
    return new Promise((resolve) => this.held.set(id, resolve));
  }

  answer(id: string): void {
    const resolve = this.held.get(id);
    if (!resolve) throw new Error(`${id} is not running`);
    this.held.delete(id);
    resolve(JSON.stringify({ id }));
  }
}

describe('Connection: pipelined ordered writes', () => {
  let dir: string;
  let server: net.Server;
  let dispatcher: HeldDispatcher;
  let client: RawConnection;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksi-connection-'));
    dispatcher = new HeldDispatcher();
    const limits = { maxLineBytes: 1024 * 1024, maxOutputBytes: 16 * 1024 * 1024, partialLineTimeoutMs: 60_000 };
    const contract = { enabled: false } as ContractCheck;
    server = net.createServer((socket) => new Connection(socket, dispatcher as unknown as Dispatcher, limits, pino({ level: 'silent' }), contract));
    const socketPath = path.join(dir, 'test.sock');
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    client = await RawConnection.open(socketPath);
  });

  afterEach(async () => {
    client.socket.destroy();
    await new Promise((resolve) => server.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const send = (...lines: { id: string; write: boolean }[]) => client.write(lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
  const ids = async (count: number) => (await client.read(count)).map((reply) => reply.id);

  it('runs an ordered write while the one before it is awaited, and answers both in line order', async () => {
    send({ id: 'w1', write: true }, { id: 'w2', write: true }, { id: 'r3', write: false });
    await eventually(() => dispatcher.started.length === 2, 5_000, 'w1 and w2 running');
    dispatcher.answer('w2');
    dispatcher.answer('w1');
    expect(await ids(2)).toEqual(['w1', 'w2']);
    await eventually(() => dispatcher.started.length === 3, 5_000, 'r3 running once w1 and w2 were answered');
    dispatcher.answer('r3');
    expect(await ids(1)).toEqual(['r3']);
    expect(dispatcher.started).toEqual(['w1', 'w2', 'r3']);
  });

  it('holds a line that is not an ordered write until every reply before it is out', async () => {
    send({ id: 'w1', write: true }, { id: 'r2', write: false }, { id: 'w3', write: true });
    await eventually(() => dispatcher.started.length === 1, 5_000, 'w1 running');
    // The three lines came in one chunk: r2 was reached in the same turn as w1, and waits (it may read what w1 writes).
    expect(dispatcher.started).toEqual(['w1']);
    dispatcher.answer('w1');
    await eventually(() => dispatcher.started.length === 2, 5_000, 'r2 running');
    // An ordered write after a line that is not one waits for it too.
    expect(dispatcher.started).toEqual(['w1', 'r2']);
    dispatcher.answer('r2');
    await eventually(() => dispatcher.started.length === 3, 5_000, 'w3 running');
    dispatcher.answer('w3');
    expect(await ids(3)).toEqual(['w1', 'r2', 'w3']);
  });

  it('has at most 256 ordered writes awaited at once', async () => {
    send(...Array.from({ length: 300 }, (_, i) => ({ id: `w${i}`, write: true })));
    await eventually(() => dispatcher.started.length === 256, 5_000, '256 writes running');
    dispatcher.answer('w0');
    await eventually(() => dispatcher.started.length === 257, 5_000, 'one more once the first was answered');
    for (let i = 1; i < 257; i++) dispatcher.answer(`w${i}`);
    await eventually(() => dispatcher.started.length === 300, 5_000, 'the rest running');
    for (let i = 257; i < 300; i++) dispatcher.answer(`w${i}`);
    expect(await ids(300)).toEqual(Array.from({ length: 300 }, (_, i) => `w${i}`));
  });
});
