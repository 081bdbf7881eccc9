import { Client, Pool } from 'pg';
import { eventually } from '../../test/support/daemon-process';
import { postgresCluster } from '../../test/support/test-database';
import { postgresTypes } from './postgres-connection';
import { PostgresStorage } from './postgres-storage';
import { sql } from './sql-statement';
import type { RowWrite } from './storage';

const cluster = postgresCluster();

(cluster ? describe : describe.skip)('PostgresStorage.write (a real throwaway cluster)', () => {
  let pool: Pool;
  let storage: PostgresStorage;
  const insert = sql('INSERT INTO t (v) VALUES (?)');
  const all = sql('SELECT v FROM t ORDER BY id');

  beforeAll(async () => {
    pool = new Pool({ connectionString: await cluster!.createDatabase('storage_write'), types: postgresTypes() });
    await pool.query('CREATE TABLE t (id serial PRIMARY KEY, v text UNIQUE)');
    storage = new PostgresStorage(pool, 'test');
  });
  afterAll(async () => {
    await storage.onApplicationShutdown();
    await pool.end();
    await cluster!.dropDatabase('storage_write');
  });
  beforeEach(() => pool.query('TRUNCATE t'));

  it('commits jobs queued together in order, resolving after the commit', async () => {
    const jobs = Array.from({ length: 20 }, (_, i) => storage.write((tx) => tx.run(insert, [`v${i}`])));
    expect(await Promise.all(jobs)).toEqual(Array.from({ length: 20 }, () => 1));
    expect(await storage.column(all)).toEqual(Array.from({ length: 20 }, (_, i) => `v${i}`));
  });

  it('fails only the job that fails, and keeps the others in their order', async () => {
    const results = await Promise.allSettled([
      storage.write((tx) => tx.run(insert, ['kept'])),
      storage.write(async (tx) => {
        await tx.run(insert, ['undone']);
        throw new Error('job failed');
      }),
      storage.write((tx) => tx.run(insert, ['kept'])),
      storage.write((tx) => tx.run(insert, ['also kept'])),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect(await storage.column(all)).toEqual(['kept', 'also kept']);
  });

  it('does not report as written a job that caught its own failed statement: PostgreSQL rolled its transaction back', async () => {
    const swallowing = storage.write(async (tx) => {
      await tx.run(insert, ['undone']);
      await tx.run(insert, ['undone']).catch(() => 0);
      return 'looked fine';
    });
    await expect(swallowing).rejects.toThrow(/rolled back at COMMIT/);
    expect(await storage.column(all)).toEqual([]);
    await storage.write((tx) => tx.run(insert, ['after']));
    expect(await storage.column(all)).toEqual(['after']);
  });

  it('writes aside the queue: a queued write does not wait for a transaction aside, which commits whole or not at all', async () => {
    // The test holds an advisory lock the job aside waits for: its transaction stays open until the lock is let go.
    const gate = new Client({ connectionString: (pool as unknown as { options: { connectionString: string } }).options.connectionString });
    await gate.connect();
    await gate.query('SELECT pg_advisory_lock(4242)');
    const aside = storage.writeAside(async (tx) => {
      await tx.run(insert, ['aside']);
      await tx.get(sql('SELECT pg_advisory_xact_lock(4242)'));
      return 'done';
    });
    expect(await storage.write((tx) => tx.run(insert, ['queued']))).toBe(1);
    expect(await storage.column(all)).toEqual(['queued']);
    await gate.query('SELECT pg_advisory_unlock(4242)');
    await gate.end();
    expect(await aside).toBe('done');
    expect((await storage.column<string>(all)).sort()).toEqual(['aside', 'queued']);

    const failing = storage.writeAside(async (tx) => {
      await tx.run(insert, ['undone']);
      await tx.run(insert, ['aside']);
    });
    await expect(failing).rejects.toThrow(/duplicate key/);
    expect((await storage.column<string>(all)).sort()).toEqual(['aside', 'queued']);
  });

  it('a write aside whose session the server ends fails with storage_unavailable, and nothing fails outside it', async () => {
    const gate = new Client({ connectionString: (pool as unknown as { options: { connectionString: string } }).options.connectionString });
    await gate.connect();
    await gate.query('SELECT pg_advisory_lock(4343)');
    let backend: number | undefined;
    const aside = storage.writeAside(async (tx) => {
      [backend] = await tx.column<number>(sql('SELECT pg_backend_pid()'));
      await tx.get(sql('SELECT pg_advisory_xact_lock(4343)'));
    });
    const pid = await eventually(() => backend, 10_000, 'the write aside waiting');
    await gate.query('SELECT pg_terminate_backend($1)', [pid]);
    await expect(aside).rejects.toMatchObject({ code: 'storage_unavailable' });
    await gate.end();
    // The ended connection is not given back to the pool: the next write aside commits.
    expect(await storage.writeAside((tx) => tx.run(insert, ['after']))).toBe(1);
  });

  it('runs a job exclusively: a second node asking while the first runs it is turned away, and may run it after', async () => {
    const other = new PostgresStorage(pool, 'other node');
    let release!: () => void;
    const first = storage.exclusively('job', () => new Promise<string>((resolve) => (release = () => resolve('first'))));
    // The first has the lock once its job is running.
    while (release === undefined) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await other.exclusively('job', async () => 'second')).toBeUndefined();
    release();
    expect(await first).toBe('first');
    expect(await other.exclusively('job', async () => 'second')).toBe('second');
  });

  it('tells every listener of a channel what is signalled on it, its own node included', async () => {
    // Storages of their own: shutting them down here leaves the suite's storage open.
    const here = new PostgresStorage(pool, 'this node');
    const other = new PostgresStorage(pool, 'other node');
    const heard: string[] = [];
    here.onSignal('ksi_test', (payload) => heard.push(`here:${payload}`));
    other.onSignal('ksi_test', (payload) => heard.push(`there:${payload}`));
    try {
      // The LISTEN connections open in the background: signal until both hear.
      for (let i = 0; !(heard.includes(`here:${i - 1}`) && heard.includes(`there:${i - 1}`)); i++) {
        if (i > 200) throw new Error(`not heard: ${JSON.stringify(heard)}`);
        await here.signal('ksi_test', String(i));
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    } finally {
      await here.onApplicationShutdown();
      await other.onApplicationShutdown();
    }
  });

  it('listens on channels asked for while its connection opens, one statement at a time', async () => {
    // pg queues a query sent while another runs on the same client, with a deprecation warning: pg@9 refuses it.
    const query = Client.prototype.query;
    let running = 0;
    let overlapped = 0;
    const onSignalsConnection = (client: Client) => (client as unknown as { connectionParameters: { application_name?: string } }).connectionParameters.application_name?.startsWith('ksi signals');
    const spy = jest.spyOn(Client.prototype, 'query').mockImplementation(function (this: Client, ...args: unknown[]) {
      const result = (query as (...args: unknown[]) => unknown).apply(this, args);
      if (!onSignalsConnection(this) || !(result instanceof Promise)) return result;
      if (running > 0) overlapped++;
      running++;
      return result.finally(() => running--);
    } as typeof query);
    const here = new PostgresStorage(pool, 'this node');
    const heard = new Set<string>();
    const channels = ['ksi_test_a', 'ksi_test_b', 'ksi_test_c'];
    try {
      for (const channel of channels) here.onSignal(channel, () => heard.add(channel));
      for (let i = 0; heard.size < channels.length; i++) {
        if (i > 200) throw new Error(`heard only ${[...heard].join(', ')}`);
        for (const channel of channels) await here.signal(channel, '');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(overlapped).toBe(0);
    } finally {
      spy.mockRestore();
      await here.onApplicationShutdown();
    }
  });

  it('writes a statement alone in its batch, resolving with the rows it changed; one the server refuses rejects with its error, and the next goes on', async () => {
    expect(await storage.writeStatement(insert, ['one'])).toBe(1);
    expect(await storage.writeStatement(sql("UPDATE t SET v = v || '!'"))).toBe(1);
    await expect(storage.writeStatement(insert, ['one!'])).rejects.toMatchObject({ code: '23505' });
    expect(await storage.writeStatement(insert, ['two'])).toBe(1);
    expect(await storage.column(all)).toEqual(['one!', 'two']);
  });

  it('writes a statement among jobs in their transaction: one that fails fails alone, and the others keep their order', async () => {
    const results = await Promise.allSettled([
      storage.write((tx) => tx.run(insert, ['a'])),
      storage.writeStatement(insert, ['a']),
      storage.writeStatement(insert, ['b']),
      storage.write((tx) => tx.run(insert, ['c'])),
    ]);
    expect(results.map((result) => (result.status === 'fulfilled' ? result.value : result.reason.code))).toEqual([1, '23505', 1, 1]);
    expect(await storage.column(all)).toEqual(['a', 'b', 'c']);
  });

  describe('writeRow', () => {
    type Pair = { k: string; v: string };
    const upsert = `ON CONFLICT (k) DO UPDATE SET v = excluded.v`;
    const calls: Pair[][] = [];
    const pairs: RowWrite<Pair> = {
      one: sql(`INSERT INTO kv (k, v) VALUES (@k, @v) ${upsert}`),
      many: sql(`INSERT INTO kv (k, v) SELECT * FROM unnest($1::text[], $2::text[]) ${upsert}`),
      manyValues(rows) {
        calls.push(rows);
        const last = new Map(rows.map((row) => [row.k, row.v]));
        return [[...last.keys()], [...last.values()]];
      },
    };
    const kv = sql('SELECT k, v FROM kv ORDER BY k');

    beforeAll(() => pool.query('CREATE TABLE kv (k text PRIMARY KEY, v text NOT NULL)'));
    beforeEach(async () => {
      calls.length = 0;
      await pool.query('TRUNCATE kv');
    });

    it('writes the rows queued one after another with one statement', async () => {
      const writes = Array.from({ length: 30 }, (_, i) => storage.writeRow(pairs, { k: `k${i % 10}`, v: `v${i}` }));
      await Promise.all(writes);
      expect(calls.map((rows) => rows.length)).toEqual([30]);
      expect(await storage.all(kv)).toEqual(Array.from({ length: 10 }, (_, i) => ({ k: `k${i}`, v: `v${i + 20}` })));
    });

    it('keeps the order of the jobs around the rows', async () => {
      await Promise.all([
        storage.writeRow(pairs, { k: 'a', v: 'row' }),
        storage.write((tx) => tx.run(sql("UPDATE kv SET v = 'job' WHERE k = 'a'"))),
        storage.writeRow(pairs, { k: 'b', v: 'row' }),
      ]);
      expect(await storage.all(kv)).toEqual([
        { k: 'a', v: 'job' },
        { k: 'b', v: 'row' },
      ]);
    });

    it('fails only the row PostgreSQL refuses, when the statement of many fails', async () => {
      const results = await Promise.allSettled([
        storage.writeRow(pairs, { k: 'a', v: 'kept' }),
        storage.writeRow(pairs, { k: 'nul', v: 'bad\u0000' }),
        storage.writeRow(pairs, { k: 'c', v: 'kept' }),
      ]);
      expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'invalid_params' });
      expect(calls).toHaveLength(1);
      expect(await storage.all(kv)).toEqual([
        { k: 'a', v: 'kept' },
        { k: 'c', v: 'kept' },
      ]);
    });
  });
});
