import * as fs from 'node:fs';
import * as net from 'node:net';
import { DaemonProcess, eventually } from './support/daemon-process';
import { RawConnection } from './support/raw-connection';

describe('wire protocol (real daemon over the Unix socket)', () => {
  const daemon = new DaemonProcess();
  let conn: RawConnection;

  beforeAll(() => daemon.start());
  afterAll(() => daemon.dispose());
  beforeEach(async () => (conn = await RawConnection.open(daemon.socketPath)));
  afterEach(() => conn.close());

  it('creates the socket with mode 0600', () => {
    expect(fs.statSync(daemon.socketPath).mode & 0o777).toBe(0o600);
  });

  it('wraps a single result in the envelope with the echoed correlation id and an epoch timestamp', async () => {
    const before = Date.now() / 1000;
    const reply = await conn.request({ event: 'state:set', data: { key: 'k', value: 1 }, correlation_id: 'c-1' });
    expect(Object.keys(reply)).toEqual(['event', 'data', 'count', 'correlation_id', 'timestamp']);
    expect(reply).toMatchObject({ event: 'state:set', data: { status: 'set', namespace: 'global', key: 'k' }, count: 1, correlation_id: 'c-1' });
    expect(reply.timestamp).toBeGreaterThanOrEqual(before - 1);
    expect(reply.timestamp).toBeLessThanOrEqual(Date.now() / 1000 + 1);
  });

  it('echoes scalar correlation ids of any type and generates a UUID when absent', async () => {
    expect((await conn.request({ event: 'system:health', correlation_id: 42 })).correlation_id).toBe(42);
    expect((await conn.request({ event: 'system:health', correlation_id: true })).correlation_id).toBe(true);
    const generated = await conn.request({ event: 'system:health' });
    expect(generated.correlation_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('treats data null or absent as {}', async () => {
    expect((await conn.request({ event: 'state:list', data: null })).data).toMatchObject({ namespace: 'global' });
    expect((await conn.request({ event: 'state:list' })).data).toMatchObject({ namespace: 'global' });
  });

  it('ignores unknown top-level keys', async () => {
    const reply = await conn.request({ event: 'system:health', data: {}, version: '2.0', extra: [1] });
    expect(reply.data.status).toBe('healthy');
  });

  describe('request-level errors keep the connection usable', () => {
    afterEach(async () => {
      const reply = await conn.request({ event: 'system:health', correlation_id: 'after' });
      expect(reply).toMatchObject({ correlation_id: 'after', data: { status: 'healthy' } });
    });

    it('invalid_json', async () => {
      conn.write('{"event": "system:health",\n');
      const [reply] = await conn.read();
      expect(reply).toMatchObject({ code: 'invalid_json' });
      expect(reply.error).toMatch(/not valid JSON/);
      expect(reply.timestamp).toEqual(expect.any(Number));
    });

    it('invalid_request for a JSON array, a string and null', async () => {
      conn.write('[1,2]\n"hello"\nnull\n');
      const replies = await conn.read(3);
      for (const reply of replies) expect(reply.code).toBe('invalid_request');
      expect(replies[0].error).toMatch(/array/);
    });

    it('invalid_request for a missing or non-string event, keeping the correlation id', async () => {
      const missing = await conn.request({ data: {}, correlation_id: 'm' });
      expect(missing).toMatchObject({ code: 'invalid_request', correlation_id: 'm' });
      expect(missing.error).toMatch(/event/);
      expect((await conn.request({ event: 7 })).code).toBe('invalid_request');
    });

    it('unknown_event suggests close names', async () => {
      const reply = await conn.request({ event: 'state:gte', data: { key: 'a' }, correlation_id: 'u' });
      expect(reply).toMatchObject({ event: 'state:gte', code: 'unknown_event', correlation_id: 'u', suggestions: ['state:get'] });
      expect(reply.error).toContain('Did you mean state:get');
      expect(reply).not.toHaveProperty('data');
    });

    it('invalid_params names every bad field', async () => {
      const reply = await conn.request({ event: 'state:set', data: { namespace: 5, ttl_seconds: -1 } });
      expect(reply.code).toBe('invalid_params');
      const paths = reply.details.map((issue: { path: string }) => issue.path).sort();
      expect(paths).toEqual(['key', 'namespace', 'ttl_seconds', 'value']);
      expect(reply.error).toMatch(/^Invalid parameters for state:set: /);
    });

    it('invalid_params when data is not an object', async () => {
      const reply = await conn.request({ event: 'state:get', data: [1, 2] });
      expect(reply).toMatchObject({ code: 'invalid_params', details: [{ path: 'data' }] });
    });

    it('forbidden_event for lifecycle events', async () => {
      for (const event of ['system:startup', 'system:context', 'system:ready', 'system:shutdown_complete']) {
        const reply = await conn.request({ event });
        expect(reply).toMatchObject({ event, code: 'forbidden_event' });
      }
    });

    it('line_too_long for a 2 MiB line, discarding the rest of it', async () => {
      const value = 'x'.repeat(2 * 1024 * 1024);
      conn.write(`${JSON.stringify({ event: 'state:set', data: { key: 'big', value } })}\n`);
      const [reply] = await conn.read();
      expect(reply.code).toBe('line_too_long');
      expect(reply.error).toMatch(/1048576 bytes/);
      const get = await conn.request({ event: 'state:get', data: { key: 'big' } });
      expect(get.data.found).toBe(false);
    });
  });

  it('answers pipelined requests in order, each seeing the writes before it', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 300; i++) {
      lines.push(JSON.stringify({ event: 'state:set', data: { key: `p${i}`, value: i }, correlation_id: `s${i}` }));
      lines.push(JSON.stringify({ event: 'state:get', data: { key: `p${i}` }, correlation_id: `g${i}` }));
    }
    conn.write(`${lines.join('\n')}\n`);
    const replies = await conn.read(600);
    replies.forEach((reply, index) => {
      const i = Math.floor(index / 2);
      expect(reply.correlation_id).toBe(index % 2 === 0 ? `s${i}` : `g${i}`);
      if (index % 2 === 1) expect(reply.data).toEqual({ value: i, found: true, namespace: 'global', key: `p${i}` });
    });
  });

  it('answers a one-shot client that half-closes after its line, then closes', async () => {
    const socket = net.createConnection(daemon.socketPath);
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.end('{"event":"system:health","data":{}}');
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    expect(JSON.parse(text.trim())).toMatchObject({ event: 'system:health', data: { status: 'healthy' } });
  });

  it('serves 200 concurrent connections', async () => {
    const connections = await Promise.all(Array.from({ length: 200 }, () => RawConnection.open(daemon.socketPath)));
    try {
      const replies = await Promise.all(
        connections.map(async (c, i) => {
          await c.request({ event: 'state:set', data: { key: `c${i}`, value: { i } } });
          return c.request({ event: 'state:get', data: { key: `c${i}` } });
        }),
      );
      replies.forEach((reply, i) => expect(reply.data).toMatchObject({ found: true, value: { i } }));
    } finally {
      connections.forEach((c) => c.close());
    }
  });

  it('runs the complete lines of a client that disconnects mid-line, drops the partial one, and disturbs nobody', async () => {
    const rude = await RawConnection.open(daemon.socketPath);
    const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ event: 'state:set', data: { key: `rude-${i}`, value: i } }));
    await new Promise<void>((resolve) => rude.socket.write(`${lines.join('\n')}\n{"event":"state:set","data":{"key":"partial"`, () => resolve()));
    rude.close();
    expect((await conn.request({ event: 'system:health' })).data.status).toBe('healthy');
    await eventually(async () => (await conn.request({ event: 'state:get', data: { key: 'rude-49' } })).data.found);
    expect((await conn.request({ event: 'state:list', data: { pattern: 'rude-*' } })).data.count).toBe(50);
    expect((await conn.request({ event: 'state:get', data: { key: 'partial' } })).data.found).toBe(false);
  });
});

describe('a client that sends without reading', () => {
  const daemon = new DaemonProcess();
  beforeAll(() => daemon.start());
  afterAll(() => daemon.dispose());

  it('is paused instead of buffered without bound, gets every reply once it reads, and does not slow others', async () => {
    const greedy = await RawConnection.open(daemon.socketPath);
    greedy.socket.pause();
    const line = `${JSON.stringify({ event: 'system:discover', data: { namespace: 'state' } })}\n`;
    const total = 20_000;
    const batch = line.repeat(1_000);
    for (let i = 0; i < total / 1_000; i++) greedy.write(batch);

    const other = await RawConnection.open(daemon.socketPath);
    expect((await other.request({ event: 'system:health' })).data.status).toBe('healthy');
    other.close();
    // The daemon stopped reading once its unread replies passed its high-water mark, so most of the
    // requests stay waiting on the client's side instead of as ~30 MB of replies in the daemon.
    await eventually(() => greedy.socket.writableLength > 500_000);

    greedy.socket.resume();
    const replies = await greedy.read(total, 30_000);
    expect(replies.every((reply) => reply.data?.total === 4)).toBe(true);
    greedy.close();
  });
});
