import { Injectable, Module } from '@nestjs/common';
import { z } from '../libs/client/src';
import { EventBus } from '../src/events/event-bus';
import { EventError } from '../src/events/event-error';
import { Handles } from '../src/events/handles.decorator';
import { startInProcess, type InProcessDaemon } from './support/in-process-daemon';
import { RawConnection } from './support/raw-connection';

const noParams = z.object({});

@Injectable()
class FirstProbe {
  @Handles('probe:multi', { summary: 'first of two', params: noParams })
  multi() {
    return { from: 'first' };
  }

  @Handles('probe:partial', { summary: 'answers', params: noParams })
  partial() {
    return { from: 'first' };
  }

  @Handles('probe:silent', { summary: 'returns nothing', params: noParams })
  silent() {
    return undefined;
  }

  @Handles('probe:unserialisable', { summary: 'returns a BigInt', params: noParams })
  unserialisable() {
    return { big: BigInt(1) };
  }

  @Handles('probe:typed', { summary: 'needs a number', params: z.object({ n: z.number().default(3) }) })
  typed({ n }: { n: number }) {
    return { doubled: n * 2 };
  }

  @Handles('probe:app_error', { summary: 'an application error', params: noParams })
  appError() {
    throw new EventError('not_found', 'Thing not found: x');
  }
}

@Injectable()
class SecondProbe {
  @Handles('probe:multi', { summary: 'second of two', params: noParams })
  multi() {
    return { from: 'second' };
  }

  @Handles('probe:partial', { summary: 'throws', params: noParams })
  partial(): never {
    throw new Error('boom');
  }

  @Handles('probe:silent', { summary: 'returns null', params: noParams })
  silent() {
    return null;
  }
}

@Module({ providers: [FirstProbe, SecondProbe] })
class ProbeModule {}

describe('REST rule and handler failures (real AppModule, socket and SQLite, with probe handlers)', () => {
  let daemon: InProcessDaemon;
  let conn: RawConnection;

  beforeAll(async () => {
    daemon = await startInProcess([ProbeModule]);
    conn = await RawConnection.open(daemon.config.socketPath);
  });
  afterAll(async () => {
    conn.close();
    await daemon.close();
  });

  it('returns an array in handler order when two handlers answer', async () => {
    expect(await conn.request({ event: 'probe:multi' })).toMatchObject({ data: [{ from: 'first' }, { from: 'second' }], count: 2 });
  });

  it('puts a throwing handler’s error in its slot and keeps the other result', async () => {
    expect(await conn.request({ event: 'probe:partial' })).toMatchObject({
      data: [{ from: 'first' }, { error: 'boom', code: 'handler_error' }],
      count: 2,
    });
  });

  it('answers [] with count 0 when every handler returns nothing', async () => {
    expect(await conn.request({ event: 'probe:silent' })).toMatchObject({ data: [], count: 0 });
  });

  it('returns application errors as ordinary results with their code', async () => {
    expect(await conn.request({ event: 'probe:app_error' })).toMatchObject({ data: { error: 'Thing not found: x', code: 'not_found' }, count: 1 });
  });

  it('replies internal_error when a result cannot be serialised, and the connection goes on', async () => {
    const reply = await conn.request({ event: 'probe:unserialisable', correlation_id: 'x' });
    expect(reply).toMatchObject({ event: 'probe:unserialisable', code: 'internal_error', correlation_id: 'x' });
    expect(reply.error).toMatch(/could not be serialised/);
    expect((await conn.request({ event: 'probe:multi' })).count).toBe(2);
  });

  it('applies schema defaults before the handler runs', async () => {
    expect((await conn.request({ event: 'probe:typed' })).data).toEqual({ doubled: 6 });
    expect((await conn.request({ event: 'probe:typed', data: { n: 'x' } })).code).toBe('invalid_params');
  });

  it('lets modules reach the same handlers through the event bus, with validation and captured errors', async () => {
    const bus = daemon.app.get(EventBus);
    expect(await bus.request('probe:multi', {})).toEqual([{ from: 'first' }, { from: 'second' }]);
    expect(await bus.request('probe:partial', {})).toEqual([{ from: 'first' }, { error: 'boom', code: 'handler_error' }]);
    const [invalid] = await bus.request('probe:typed', { n: 'x' });
    expect(invalid).toMatchObject({ code: 'invalid_params', details: [{ path: 'n' }] });
    await expect(bus.requestOne('probe:app_error', {})).rejects.toMatchObject({ code: 'not_found' });
    expect(await bus.request('state:set', { key: 'via-bus', value: [1] })).toEqual([{ status: 'set', namespace: 'global', key: 'via-bus' }]);
  });
});
