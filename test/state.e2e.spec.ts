import type { KsiClient } from '../libs/client/src';
import { eventually, useDaemon } from './support/daemon-process';
import { RawConnection } from './support/raw-connection';

describe('state and async_state (real daemon)', () => {
  const { daemon, client: connected } = useDaemon();
  let client: KsiClient;
  beforeAll(() => (client = connected()));

  describe('state:*', () => {
    it.each([
      ['a string that looks like a number', '123'],
      ['a string that looks like a boolean', 'true'],
      ['a number', 3.5],
      ['a boolean', false],
      ['an object', { nested: { list: [1, 'two', null] } }],
      ['an array', [1, 2, 3]],
      ['an empty string', ''],
    ])('round-trips %s with its JSON type', async (_name, value) => {
      await client.sendSingle('state:set', { key: 'typed', value });
      expect(await client.sendSingle('state:get', { key: 'typed' })).toEqual({ value, found: true, namespace: 'global', key: 'typed' });
    });

    it('answers a pipelined burst of writes in order, the last write of a key winning, then reads what they wrote', async () => {
      const conn = await RawConnection.open(daemon.socketPath);
      try {
        const lines = Array.from({ length: 120 }, (_, i) =>
          i % 7 === 6
            ? { event: 'state:delete', data: { key: `burst-${i % 3}` }, correlation_id: `w${i}` }
            : { event: 'state:set', data: { key: `burst-${i % 3}`, value: i }, correlation_id: `w${i}` },
        );
        conn.write(lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
        const replies = await conn.read(lines.length);
        expect(replies.map((reply) => reply.correlation_id)).toEqual(lines.map((line) => line.correlation_id));
        expect(replies.every((reply) => reply.error === undefined)).toBe(true);
        // The last line of each key decides what it holds (burst-1's is a delete).
        const last = [0, 1, 2].map((k) => lines.filter((line) => line.data.key === `burst-${k}`).at(-1)!);
        for (const line of last) {
          const expected = line.event === 'state:set' ? { value: line.data.value, found: true } : { value: null, found: false };
          expect(await client.sendSingle('state:get', { key: line.data.key })).toMatchObject(expected);
        }
      } finally {
        conn.socket.destroy();
      }
    });

    it('reads a stored null as found', async () => {
      await client.sendSingle('state:set', { key: 'nothing', value: null });
      expect(await client.sendSingle('state:get', { key: 'nothing' })).toMatchObject({ value: null, found: true });
    });

    it('reports a missing key as not found', async () => {
      expect(await client.sendSingle('state:get', { key: 'never-written' })).toEqual({ value: null, found: false, namespace: 'global', key: 'never-written' });
    });

    it('finds a key polled for as soon as it is written, and misses it once deleted', async () => {
      // The daemon remembers the key is absent; the write must end that.
      for (let poll = 0; poll < 3; poll++) expect(await client.sendSingle('state:get', { key: 'polled' })).toMatchObject({ found: false });
      await client.sendSingle('state:set', { key: 'polled', value: 'here' });
      expect(await client.sendSingle('state:get', { key: 'polled' })).toMatchObject({ found: true, value: 'here' });
      await client.sendSingle('state:delete', { key: 'polled' });
      expect(await client.sendSingle('state:get', { key: 'polled' })).toMatchObject({ found: false });
      expect(await client.sendSingle('state:get', { key: 'polled' })).toMatchObject({ found: false });
      await client.sendSingle('state:set', { key: 'polled', value: 'back' });
      expect(await client.sendSingle('state:get', { key: 'polled' })).toMatchObject({ found: true, value: 'back' });
    });

    it('keeps namespaces apart', async () => {
      await client.sendSingle('state:set', { key: 'shared', value: 'g' });
      await client.sendSingle('state:set', { key: 'shared', value: 'n', namespace: 'ns1' });
      expect(await client.getValue('state:get', { key: 'shared' })).toBe('g');
      expect(await client.getValue('state:get', { key: 'shared', namespace: 'ns1' })).toBe('n');
    });

    it('deletes and says whether the key existed', async () => {
      await client.sendSingle('state:set', { key: 'gone', value: 1 });
      expect(await client.sendSingle('state:delete', { key: 'gone' })).toEqual({ status: 'deleted', namespace: 'global', key: 'gone', deleted: true });
      expect(await client.sendSingle('state:delete', { key: 'gone' })).toMatchObject({ deleted: false });
      expect(await client.sendSingle('state:get', { key: 'gone' })).toMatchObject({ found: false });
    });

    it('lists bare keys of one namespace, sorted, with a glob', async () => {
      for (const key of ['user:1', 'user:2', 'user/3', 'team:1']) await client.sendSingle('state:set', { key, value: key, namespace: 'listing' });
      await client.sendSingle('state:set', { key: 'user:9', value: 'other', namespace: 'elsewhere' });
      const all = await client.sendSingle('state:list', { namespace: 'listing' });
      expect(all).toEqual({ keys: ['team:1', 'user/3', 'user:1', 'user:2'], count: 4, namespace: 'listing' });
      expect((await client.sendSingle('state:list', { namespace: 'listing', pattern: 'user*' })).keys).toEqual(['user/3', 'user:1', 'user:2']);
      expect((await client.sendSingle('state:list', { namespace: 'listing', pattern: 'user:?' })).keys).toEqual(['user:1', 'user:2']);
      expect((await client.sendSingle('state:list', { namespace: 'listing', pattern: '[t]*' })).keys).toEqual(['team:1']);
    });

    it('lists the global namespace by default', async () => {
      await client.sendSingle('state:set', { key: 'in-global', value: 1 });
      expect((await client.sendSingle('state:list', {})).keys).toContain('in-global');
    });

    // The exact expiry instant is tested against an injected clock in state-expiry.spec.ts.
    it('expires keys after ttl_seconds', async () => {
      const before = Date.now() / 1000;
      const set = await client.sendSingle('state:set', { key: 'lasting', value: 'x', namespace: 'ttl', ttl_seconds: 3600 });
      expect(set.expires_at).toBeGreaterThanOrEqual(before + 3600);
      expect(await client.sendSingle('state:get', { key: 'lasting', namespace: 'ttl' })).toMatchObject({ found: true, value: 'x' });
      await client.sendSingle('state:set', { key: 'brief', value: 'x', namespace: 'ttl', ttl_seconds: 0.1 });
      await eventually(async () => (await client.sendSingle('state:get', { key: 'brief', namespace: 'ttl' })).found === false);
      expect((await client.sendSingle('state:list', { namespace: 'ttl' })).keys).toEqual(['lasting']);
    });
  });

  describe('async_state:*', () => {
    it('is FIFO per namespace and queue', async () => {
      for (const value of ['a', 'b', 'c']) await client.sendSingle('async_state:push', { queue_name: 'fifo', value });
      await client.sendSingle('async_state:push', { queue_name: 'fifo', value: 'other', namespace: 'ns2' });
      expect(await client.sendSingle('async_state:queue_length', { queue_name: 'fifo' })).toEqual({ length: 3, namespace: 'default', queue_name: 'fifo' });
      const popped = [];
      for (let i = 0; i < 3; i++) popped.push((await client.sendSingle('async_state:pop', { queue_name: 'fifo' })).value);
      expect(popped).toEqual(['a', 'b', 'c']);
      expect(await client.sendSingle('async_state:pop', { queue_name: 'fifo' })).toEqual({ value: null, found: false, namespace: 'default', queue_name: 'fifo' });
      expect(await client.sendSingle('async_state:pop', { queue_name: 'fifo', namespace: 'ns2' })).toMatchObject({ value: 'other', found: true });
    });

    it('reports positions and pops a stored null as found', async () => {
      expect(await client.sendSingle('async_state:push', { queue_name: 'nulls', value: null })).toEqual({ status: 'pushed', namespace: 'default', queue_name: 'nulls', position: 0 });
      expect((await client.sendSingle('async_state:push', { queue_name: 'nulls', value: { x: 1 } })).position).toBe(1);
      expect(await client.sendSingle('async_state:pop', { queue_name: 'nulls' })).toMatchObject({ value: null, found: true });
    });

    it('peeks with get, appends with set, accepts key as the queue name', async () => {
      await client.sendSingle('async_state:set', { key: 'peeky', value: 1 });
      await client.sendSingle('async_state:set', { key: 'peeky', value: 2 });
      expect(await client.sendSingle('async_state:get', { key: 'peeky' })).toMatchObject({ value: 1, found: true });
      expect((await client.sendSingle('async_state:queue_length', { key: 'peeky' })).length).toBe(2);
    });

    it('lists non-empty queues and deletes a whole queue', async () => {
      await client.sendSingle('async_state:push', { queue_name: 'q1', value: 1, namespace: 'keys' });
      await client.sendSingle('async_state:push', { queue_name: 'q2', value: 1, namespace: 'keys' });
      await client.sendSingle('async_state:push', { queue_name: 'q2', value: 2, namespace: 'keys' });
      expect(await client.sendSingle('async_state:get_keys', { namespace: 'keys' })).toEqual({ keys: ['q1', 'q2'], count: 2, namespace: 'keys' });
      expect(await client.sendSingle('async_state:delete', { queue_name: 'q2', namespace: 'keys' })).toMatchObject({ deleted_count: 2 });
      expect((await client.sendSingle('async_state:get_keys', { namespace: 'keys' })).keys).toEqual(['q1']);
    });

    it('refuses a request without a queue name', async () => {
      await expect(client.sendEvent('async_state:pop', {})).rejects.toMatchObject({ code: 'invalid_params', details: [{ path: 'queue_name', message: 'Required (queue_name or key)' }] });
    });

    it('never hands one element to two concurrent pops', async () => {
      const values = Array.from({ length: 50 }, (_, i) => i);
      await Promise.all(values.map((value) => client.sendSingle('async_state:push', { queue_name: 'race', value })));
      const others = [daemon.client(), daemon.client(), daemon.client()];
      const pops = await Promise.all(
        values.map((_, i) => (i % 4 === 0 ? client : others[i % 3]).sendSingle('async_state:pop', { queue_name: 'race' })),
      );
      await Promise.all(others.map((other) => other.close()));
      expect(pops.map((pop) => pop.value).sort((a, b) => Number(a) - Number(b))).toEqual(values);
    });
  });
});
