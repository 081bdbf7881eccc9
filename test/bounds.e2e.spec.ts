import { DaemonProcess, eventually } from './support/daemon-process';
import { RawConnection } from './support/raw-connection';
import { testBackend } from './support/test-database';

/** Small byte limits, so that a few requests reach every bound. */
const SMALL_LIMITS = {
  KSI_STATE_CACHE_BYTES: String(64 * 1024),
  KSI_EVENT_DATA_MAX_BYTES: '1024',
  KSI_MONITOR_REPLY_BYTES: String(32 * 1024),
  KSI_PARTIAL_LINE_TIMEOUT_MS: '300',
};

describe('bounded memory and cheap rejection of absurd input (real daemon)', () => {
  const daemon = new DaemonProcess({ env: SMALL_LIMITS });
  let conn: RawConnection;

  beforeAll(() => daemon.start());
  afterAll(() => daemon.dispose());
  beforeEach(async () => (conn = await RawConnection.open(daemon.socketPath)));
  afterEach(() => conn.close());

  it('keeps serving values larger than its cache, and reads every one back', async () => {
    const value = 'v'.repeat(100 * 1024);
    for (let i = 0; i < 20; i++) expect((await conn.request({ event: 'state:set', data: { key: `big-${i}`, value: `${i}${value}` } })).data).toMatchObject({ status: 'set' });
    for (let i = 0; i < 20; i++) expect((await conn.request({ event: 'state:get', data: { key: `big-${i}` } })).data.value).toBe(`${i}${value}`);
  });

  it('records large event data as a truncation marker and answers get_events over large events without building the whole reply', async () => {
    const value = 'w'.repeat(8 * 1024);
    for (let i = 0; i < 20; i++) await conn.request({ event: 'state:set', data: { key: `logged-${i}`, value } });
    const reply = await conn.request({ event: 'monitor:get_events', data: { patterns: ['state:set'], limit: 20 } });
    const { events, truncated } = reply.data;
    expect(events).toHaveLength(20);
    expect(events[0].data).toEqual({ _truncated: true, bytes: expect.any(Number) });
    expect(events[0].data.bytes).toBeGreaterThan(8 * 1024);
    expect(truncated).toBeUndefined();
    // Every event so far does not fit 32 KiB: the reply says so instead of growing.
    const everything = await conn.request({ event: 'monitor:get_events', data: { limit: 10_000 } });
    expect(everything.data).toMatchObject({ truncated: true, truncated_reason: expect.stringContaining('KSI_MONITOR_REPLY_BYTES') });
    expect(everything.data.count).toBe(everything.data.events.length);
  });

  it('refuses an over-long event name without searching for similar names', async () => {
    const reply = await conn.request({ event: `state:${'x'.repeat(1024 * 1024 - 100)}`, data: {} });
    expect(reply).toMatchObject({ code: 'unknown_event', error: expect.stringContaining('at most 128') });
    expect(reply.suggestions).toBeUndefined();
    expect(reply.event).toBeUndefined();
  });

  it('refuses an over-long correlation id', async () => {
    const reply = await conn.request({ event: 'system:health', correlation_id: 'c'.repeat(257) });
    expect(reply).toMatchObject({ code: 'invalid_request', error: expect.stringContaining('correlation_id') });
  });

  it('refuses data nested deeper than 64 levels with invalid_params, and stores 64', async () => {
    const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
    conn.write(`{"event":"state:set","data":{"key":"deep","value":${nested(63)}}}\n`);
    expect((await conn.read())[0].data).toMatchObject({ status: 'set' });
    expect(JSON.stringify((await conn.request({ event: 'state:get', data: { key: 'deep' } })).data.value)).toBe(nested(63));
    for (const depth of [64, 4_100, 10_000]) {
      conn.write(`{"event":"state:set","data":{"key":"deep","value":${nested(depth)}}}\n`);
      const [reply] = await conn.read();
      expect(reply).toMatchObject({ code: 'invalid_params', details: [{ path: 'data', message: expect.stringContaining('64 levels') }] });
    }
    // Brackets inside strings are text, not nesting.
    expect((await conn.request({ event: 'state:set', data: { key: 'brackets', value: '['.repeat(1000) } })).data).toMatchObject({ status: 'set' });
  });

  it('refuses numbers JSON cannot carry (1e400) instead of storing null', async () => {
    for (const number of ['1e400', '-1e400', `1${'0'.repeat(300)}e10`]) {
      conn.write(`{"event":"state:set","data":{"key":"huge","value":{"n":[${number}]}}}\n`);
      const [reply] = await conn.read();
      expect(reply).toMatchObject({ code: 'invalid_params', details: [{ path: 'data', message: expect.stringContaining('1e400') }] });
    }
    expect((await conn.request({ event: 'state:get', data: { key: 'huge' } })).data.found).toBe(false);
    conn.write('{"event":"state:set","data":{"key":"large","value":1.5e300}}\n');
    expect((await conn.read())[0].data).toMatchObject({ status: 'set' });
    expect((await conn.request({ event: 'state:get', data: { key: 'large' } })).data.value).toBe(1.5e300);
  });

  // PostgreSQL's text cannot hold NUL: there such names are refused (test/postgres-outage.e2e.spec.ts).
  (testBackend() === 'sqlite' ? it : it.skip)('keeps namespaces and keys with NUL apart', async () => {
    await conn.request({ event: 'state:set', data: { namespace: 'a\u0000b', key: 'c', value: 'first' } });
    await conn.request({ event: 'state:set', data: { namespace: 'a', key: 'b\u0000c', value: 'second' } });
    expect((await conn.request({ event: 'state:get', data: { namespace: 'a\u0000b', key: 'c' } })).data.value).toBe('first');
    expect((await conn.request({ event: 'state:get', data: { namespace: 'a', key: 'b\u0000c' } })).data.value).toBe('second');
  });

  it('answers the lines before a partial line that never ends, then line_timeout, then closes the connection', async () => {
    conn.write('{"event":"system:health","correlation_id":"before"}\n{"event":"system:he');
    const [before, timedOut] = await conn.read(2);
    expect(before).toMatchObject({ correlation_id: 'before', data: { status: 'healthy' } });
    expect(timedOut).toMatchObject({ code: 'line_timeout', error: expect.stringContaining('KSI_PARTIAL_LINE_TIMEOUT_MS') });
    await conn.whenClosed();
  });

  it('does not time out a connection that is idle between lines', async () => {
    const other = await RawConnection.open(daemon.socketPath);
    try {
      expect((await other.request({ event: 'system:health' })).data.status).toBe('healthy');
      // Once the probe's partial line timed out, the idle connection has waited longer than the timeout.
      const probe = await RawConnection.open(daemon.socketPath);
      probe.write('{"event":"system:he');
      await probe.whenClosed();
      probe.close();
      expect((await other.request({ event: 'system:health' })).data.status).toBe('healthy');
    } finally {
      other.close();
    }
  });
});

describe('event log backpressure (real daemon)', () => {
  // A buffer smaller than any event: every recorded event is dropped, deterministically.
  const daemon = new DaemonProcess({ env: { KSI_EVENT_LOG_BUFFER_BYTES: '1' } });

  beforeAll(() => daemon.start());
  afterAll(() => daemon.dispose());

  it('drops what does not fit its buffer, counts it in monitor:get_stats and keeps serving', async () => {
    const client = daemon.client();
    try {
      await client.connect();
      for (let i = 0; i < 5; i++) await client.sendSingle('state:set', { key: `k${i}`, value: i });
      const stats = await eventually(async () => {
        const { event_log } = (await client.sendSingle('monitor:get_stats')) as { event_log: { dropped_events: number } };
        return event_log.dropped_events >= 5 && event_log;
      });
      expect(stats).toMatchObject({ dropped_events: expect.any(Number), lost_events: 0 });
      expect(await client.sendSingle('state:get', { key: 'k4' })).toMatchObject({ value: 4 });
    } finally {
      await client.close();
    }
  });
});
