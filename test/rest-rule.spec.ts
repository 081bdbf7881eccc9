import { Injectable, Module } from '@nestjs/common';
import { defineInternal, definePush, defineRequest, stateSet, z, type ParamsOut } from '../libs/client/src';
import type { EventContext } from '../src/events/event-context';
import { EventBus } from '../src/events/event-bus';
import { EventError } from '../src/events/event-error';
import { Handles } from '../src/events/handles.decorator';
import { startInProcess, type InProcessDaemon } from './support/in-process-daemon';
import { RawConnection } from './support/raw-connection';

const noParams = z.object({});
const from = z.object({ from: z.string() });
const probeMulti = defineRequest('probe:multi', { summary: 'two handlers answer', params: noParams, result: from });
const probePartial = defineRequest('probe:partial', { summary: 'one answers, one throws', params: noParams, result: from });
const probeSilent = defineRequest('probe:silent', { summary: 'nothing answers', params: noParams, result: from.nullish() });
const probeUnserialisable = defineRequest('probe:unserialisable', { summary: 'returns a BigInt', params: noParams, result: z.object({ big: z.bigint() }) });
const probeTyped = defineRequest('probe:typed', { summary: 'needs a number', params: z.object({ n: z.number().default(3) }), result: z.object({ doubled: z.number() }) });
const probeAppError = defineRequest('probe:app_error', { summary: 'an application error', params: noParams, result: from });
const probeWrongResult = defineRequest('probe:wrong_result', { summary: 'answers what its definition does not say', params: z.object({ extra: z.boolean() }), result: from });
const probePushed = definePush('probe:pushed', { summary: 'pushed to the asker', payload: z.object({ n: z.number() }) });
const probeNoticed = defineInternal('probe:noticed', { summary: 'raised for listeners', params: z.object({ n: z.number() }), result: z.void() });
const probeStrayOutput = defineRequest('probe:stray_output', { summary: 'pushes and raises what the definitions do not say', params: noParams, result: z.object({}) });
const probes = [probeMulti, probePartial, probeSilent, probeUnserialisable, probeTyped, probeAppError, probeWrongResult, probePushed, probeNoticed, probeStrayOutput];

@Injectable()
class FirstProbe {
  @Handles(probeMulti)
  multi() {
    return { from: 'first' };
  }

  @Handles(probePartial)
  partial() {
    return { from: 'first' };
  }

  @Handles(probeSilent)
  silent() {
    return undefined;
  }

  @Handles(probeUnserialisable)
  unserialisable() {
    return { big: BigInt(1) };
  }

  @Handles(probeTyped)
  typed({ n }: ParamsOut<typeof probeTyped>) {
    return { doubled: n * 2 };
  }

  @Handles(probeAppError)
  appError(): never {
    throw new EventError('not_found', 'Thing not found: x');
  }

  constructor(private readonly bus: EventBus) {}

  // Casts past the compiler on purpose here and below: the daemon's own check must catch what a cast hides.
  @Handles(probeStrayOutput)
  strayOutput(_data: ParamsOut<typeof probeStrayOutput>, context: EventContext) {
    context.connection?.push(probePushed, { n: 'one' } as unknown as { n: number });
    this.bus.emit(probeNoticed, { n: 'two' } as unknown as { n: number });
    return {};
  }

  @Handles(probeWrongResult)
  wrongResult({ extra }: ParamsOut<typeof probeWrongResult>) {
    return (extra ? { from: 'first', surprise: true } : { from: 1 }) as unknown as { from: string };
  }
}

@Injectable()
class SecondProbe {
  @Handles(probeMulti)
  multi() {
    return { from: 'second' };
  }

  @Handles(probePartial)
  partial(): never {
    throw new Error('boom');
  }

  @Handles(probeSilent)
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
    daemon = await startInProcess([ProbeModule], { definitions: probes });
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
    expect(await bus.request(probeMulti, {})).toEqual([{ from: 'first' }, { from: 'second' }]);
    expect(await bus.request(probePartial, {})).toEqual([{ from: 'first' }, { error: 'boom', code: 'handler_error' }]);
    const [invalid] = await bus.request(probeTyped, { n: 'x' as unknown as number });
    expect(invalid).toMatchObject({ code: 'invalid_params', details: [{ path: 'n' }] });
    await expect(bus.requestOne(probeAppError, {})).rejects.toMatchObject({ code: 'not_found' });
    expect(await bus.request(stateSet, { key: 'via-bus', value: [1] })).toEqual([{ status: 'set', namespace: 'global', key: 'via-bus' }]);
  });

  it('reports a pushed line or a raised notification that differs from its definition on stderr, where the harness fails the run', async () => {
    const written: string[] = [];
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => (written.push(String(chunk)), true));
    const own = await RawConnection.open(daemon.config.socketPath);
    try {
      own.send({ event: 'probe:stray_output' });
      const [pushed, reply] = await own.read(2);
      expect(pushed).toMatchObject({ event: 'probe:pushed', data: { n: 'one' }, push: true });
      expect(reply).toMatchObject({ data: {}, count: 1 });
    } finally {
      spy.mockRestore();
      own.close();
    }
    expect(written).toEqual([
      expect.stringMatching(/^KSI contract violation: probe:pushed as pushed: n: Invalid input: expected number, received string\n$/),
      expect.stringMatching(/^KSI contract violation: probe:noticed as raised: n: Invalid input: expected number, received string\n$/),
    ]);
  });

  it('answers internal_error naming the field when a result differs from its definition (KSI_CHECK_RESULTS, on in the suite)', async () => {
    const undeclared = await conn.request({ event: 'probe:wrong_result', data: { extra: true } });
    expect(undeclared).toMatchObject({ code: 'internal_error' });
    expect(undeclared.error).toMatch(/FirstProbe\.wrongResult .*probe:wrong_result.*does not declare: surprise/);
    const mistyped = await conn.request({ event: 'probe:wrong_result', data: { extra: false } });
    expect(mistyped).toMatchObject({ code: 'internal_error' });
    expect(mistyped.error).toMatch(/from: /);
    const [viaBus] = await daemon.app.get(EventBus).request(probeWrongResult, { extra: true });
    expect(viaBus).toMatchObject({ code: 'internal_error' });
  });
});
