import { ManualClock, startInProcess, type InProcessDaemon } from './support/in-process-daemon';
import { RawConnection } from './support/raw-connection';

describe('state expiry (real AppModule and SQLite, injected clock)', () => {
  const clock = new ManualClock();
  let daemon: InProcessDaemon;
  let connection: RawConnection;
  const send = async (event: string, data: Record<string, unknown>) => (await connection.request({ event, data })).data;

  beforeAll(async () => {
    daemon = await startInProcess([], { clock });
    connection = await RawConnection.open(daemon.config.socketPath);
  });
  afterAll(async () => {
    connection.close();
    await daemon.close();
  });

  it('keeps a key until the instant its ttl ends, then neither get nor list sees it', async () => {
    const set = await send('state:set', { key: 'brief', value: 'x', namespace: 'ttl', ttl_seconds: 10 });
    expect(set.expires_at).toBe((clock.now() + 10_000) / 1000);
    clock.advance(9_999);
    expect(await send('state:get', { key: 'brief', namespace: 'ttl' })).toMatchObject({ found: true, value: 'x' });
    expect((await send('state:list', { namespace: 'ttl' })).keys).toEqual(['brief']);
    clock.advance(1);
    expect(await send('state:get', { key: 'brief', namespace: 'ttl' })).toMatchObject({ found: false });
    expect((await send('state:list', { namespace: 'ttl' })).keys).toEqual([]);
  });

  it('overwriting without ttl_seconds makes a key permanent again', async () => {
    await send('state:set', { key: 'again', value: 1, ttl_seconds: 1 });
    await send('state:set', { key: 'again', value: 2 });
    clock.advance(3_600_000);
    expect(await send('state:get', { key: 'again' })).toMatchObject({ found: true, value: 2 });
  });
});
