import { DaemonProcess } from './support/daemon-process';
import { RawConnection } from './support/raw-connection';

describe('message bus (real daemon)', () => {
  const daemon = new DaemonProcess();
  beforeAll(() => daemon.start());
  afterAll(() => daemon.dispose());
  const open = () => RawConnection.open(daemon.socketPath);

  it('pushes published messages to socket subscribers of the type, not to the sender', async () => {
    const listener = await open();
    const publisher = await open();
    expect((await listener.request({ event: 'message:subscribe', data: { event_types: ['STATUS_UPDATE'] } })).data).toMatchObject({ status: 'subscribed' });
    expect((await publisher.request({ event: 'message:subscribe', data: { event_types: ['STATUS_UPDATE'], agent_id: 'pub' } })).data.subscriber).toBe('pub');
    const reply = await publisher.request({ event: 'message:publish', data: { event_type: 'STATUS_UPDATE', agent_id: 'pub', message: { progress: 50 } } });
    expect(reply.data).toMatchObject({ status: 'published', delivered: [expect.stringMatching(/^conn-/)] });
    const [pushed] = await listener.read(1);
    expect(pushed).toMatchObject({ event: 'message:delivered', push: true, data: { type: 'STATUS_UPDATE', from: 'pub', progress: 50, id: reply.data.id, timestamp: expect.any(Number) } });
    listener.close();
    publisher.close();
  });

  it('delivers a broadcast exactly once to each of five subscribers and never back to its sender', async () => {
    const agents = await Promise.all(Array.from({ length: 5 }, () => open()));
    await Promise.all(agents.map((agent, i) => agent.request({ event: 'message:subscribe', data: { event_types: ['BROADCAST'], agent_id: `b${i}` } })));
    const result = await agents[0].request({ event: 'message:publish', data: { event_type: 'BROADCAST', agent_id: 'b0', message: { text: 'hello all' } } });
    expect(result.data.delivered.sort()).toEqual(['b1', 'b2', 'b3', 'b4']);
    const received = await Promise.all(agents.slice(1).map((agent) => agent.read(1)));
    for (const [line] of received) expect(line.data).toMatchObject({ type: 'BROADCAST', from: 'b0', text: 'hello all' });
    // Nothing more arrives: a check request is answered next, with no extra pushed line before it.
    for (const agent of agents) expect((await agent.request({ event: 'system:health', correlation_id: 'after' })).correlation_id).toBe('after');
    agents.forEach((agent) => agent.close());
  });

  it('stores direct messages to an offline recipient and delivers them in order, once, when it subscribes — across a restart', async () => {
    const sender = await open();
    const first = await sender.request({ event: 'message:publish', data: { event_type: 'DIRECT_MESSAGE', to: 'sleeper', message: { n: 1 } } });
    expect(first.data).toMatchObject({ status: 'queued', queued: ['sleeper'] });
    await sender.request({ event: 'message:publish', data: { event_type: 'DIRECT_MESSAGE', message: { to: 'sleeper', n: 2 } } });
    expect((await sender.request({ event: 'message_bus:stats' })).data.stats.offline_queues).toEqual({ sleeper: 2 });
    expect((await sender.request({ event: 'message:publish', data: { event_type: 'DIRECT_MESSAGE', message: { n: 3 } } })).data).toMatchObject({ code: 'invalid_params' });
    sender.close();

    await daemon.stop('SIGTERM');
    await daemon.start();
    const sleeper = await open();
    sleeper.send({ event: 'message:subscribe', data: { event_types: ['DIRECT_MESSAGE'], agent_id: 'sleeper' } });
    // The stored messages are pushed while the subscription is handled, so they may precede its reply.
    const all = await sleeper.read(3);
    const subscribed = all.find((line) => line.event === 'message:subscribe') as Record<string, any>;
    expect(subscribed.data.delivered_offline).toBe(2);
    const lines = all.filter((line) => line.event === 'message:delivered');
    expect(lines.map((line) => line.data.n)).toEqual([1, 2]);
    expect(lines[0].data).toMatchObject({ type: 'DIRECT_MESSAGE', from: 'operator', to: 'sleeper' });
    const live = await open();
    expect((await live.request({ event: 'message:publish', data: { event_type: 'DIRECT_MESSAGE', to: 'sleeper', message: { n: 4 } } })).data.status).toBe('delivered');
    expect((await sleeper.read(1))[0].data.n).toBe(4);
    const again = await open();
    expect((await again.request({ event: 'message:subscribe', data: { event_types: ['DIRECT_MESSAGE'], agent_id: 'other' } })).data.delivered_offline).toBe(0);
    [sleeper, live, again].forEach((c) => c.close());
  });

  describe('identified agents act only as themselves', () => {
    /** A connection identified as a new agent of this permission profile. */
    const agent = async (agentId: string, profile: string): Promise<RawConnection> => {
      const operator = await open();
      await operator.request({ event: 'permission:set_agent', data: { agent_id: agentId, profile } });
      const { token } = (await operator.request({ event: 'permission:issue_token', data: { agent_id: agentId } })).data;
      operator.close();
      return RawConnection.identified(daemon.socketPath, agentId, token);
    };

    it("cannot take over another agent's direct messages, unsubscribe it or speak for it", async () => {
      const victim = await agent('victim', 'restricted');
      const mallory = await agent('mallory', 'restricted');
      expect((await victim.request({ event: 'message:subscribe', data: { event_types: ['DIRECT_MESSAGE'] } })).data).toMatchObject({ subscriber: 'victim' });
      for (const [event, data] of [
        ['message:subscribe', { event_types: ['DIRECT_MESSAGE'], agent_id: 'victim' }],
        ['message:unsubscribe', { agent_id: 'victim' }],
        ['message:publish', { event_type: 'STATUS_UPDATE', agent_id: 'victim', message: { text: 'not me' } }],
        ['message:subscriptions', { agent_id: 'victim' }],
      ] as const) {
        const refused = await mallory.request({ event, data });
        expect({ event, code: refused.code, error: refused.error }).toEqual({ event, code: 'permission_denied', error: expect.stringContaining('acts only as itself') });
      }
      // As itself, everything still works; and the victim still gets its mail.
      expect((await mallory.request({ event: 'message:subscribe', data: { event_types: ['DIRECT_MESSAGE'], agent_id: 'mallory' } })).data).toMatchObject({ subscriber: 'mallory' });
      expect((await mallory.request({ event: 'message:subscriptions', data: {} })).data.subscriptions).toEqual({ mallory: ['DIRECT_MESSAGE'] });
      const sent = await mallory.request({ event: 'message:publish', data: { event_type: 'DIRECT_MESSAGE', to: 'victim', message: { text: 'hi' } } });
      expect(sent.data).toMatchObject({ status: 'delivered', delivered: ['victim'] });
      expect((await victim.read(1))[0].data).toMatchObject({ type: 'DIRECT_MESSAGE', from: 'mallory', text: 'hi' });
      [victim, mallory].forEach((c) => c.close());
    });

    it("cannot destroy another recipient's stored messages with message:connect or disconnect", async () => {
      const operator = await open();
      await operator.request({ event: 'message:publish', data: { event_type: 'DIRECT_MESSAGE', to: 'away', message: { n: 1 } } });
      const standard = await agent('meddler', 'standard');
      for (const event of ['message:connect', 'message:disconnect']) {
        for (const target of ['away', 'meddler']) {
          const refused = await standard.request({ event, data: { agent_id: target } });
          expect({ event, target, code: refused.code }).toEqual({ event, target, code: 'permission_denied' });
        }
      }
      expect((await operator.request({ event: 'message_bus:stats' })).data.stats.offline_queues).toMatchObject({ away: 1 });
      [operator, standard].forEach((c) => c.close());
    });
  });
});
