import { STORAGE_UNAVAILABLE } from '../libs/client/src';
import { DaemonProcess, eventually } from './support/daemon-process';
import { ksi } from './support/ksi-cli';
import { databaseNameOf, postgresCluster } from './support/test-database';

const cluster = postgresCluster();

/** The database goes away under a running daemon (its connections cut, new ones refused), then comes back. */
(cluster ? describe : describe.skip)('PostgreSQL connection loss (real daemon, real cluster)', () => {
  // At info, as by default: the line saying the server answers again is read below.
  const daemon = new DaemonProcess({ env: { KSI_LOG_LEVEL: 'info' } });
  afterAll(() => daemon.dispose());

  it('answers storage_unavailable and reports it in system:health while the server is away, then carries on with nothing acknowledged lost', async () => {
    await daemon.start();
    const database = databaseNameOf(daemon.varDir);
    const client = daemon.client();
    await client.sendSingle('state:set', { key: 'kept', value: 'before the outage' });

    await cluster!.execute(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS false`);
    try {
      await cluster!.execute(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${database}'`);
      expect(await client.sendSingle('state:set', { key: 'during', value: 1 })).toEqual({
        code: STORAGE_UNAVAILABLE,
        error: expect.stringMatching(/^The PostgreSQL server at .* cannot be reached \(.*\): the request was not carried out\. Retry once it is back; system:health shows its state\.$/),
      });
      const health = await client.sendSingle('system:health', {});
      // The cause, without the advice meant for a request ("Retry once it is back; system:health shows its state").
      expect(health).toMatchObject({ status: 'unhealthy', database: { status: 'error', error: expect.stringMatching(/^The PostgreSQL server at \S+ cannot be reached \([^)]+\)$/) } });
      // The CLI says so too: not "Key not found" for a key it could not read, nor a crash; and what the daemon can tell without its database, it shows.
      const unavailable = /^Error \(storage_unavailable\): The PostgreSQL server at .* cannot be reached[^\n]*\n$/;
      const [got, nodes, status, daemonHealth] = await Promise.all([['get', 'state', '--key', 'kept'], ['nodes'], ['status'], ['daemon', 'health']].map((args) => ksi([...args, '--socket', daemon.socketPath])));
      expect(got).toEqual({ code: 1, stdout: '', stderr: expect.stringMatching(unavailable) });
      expect(nodes).toEqual({ code: 1, stdout: expect.stringMatching(/^NODE\s+STATUS\s+RUNNING\s+HEARTBEAT\n\S+ \*\s+unhealthy\s+\?\s+\?\n/), stderr: expect.stringMatching(unavailable) });
      expect(status).toEqual({ code: 1, stdout: expect.stringMatching(/^DAEMON\s+unhealthy \(database: The PostgreSQL server at .*\nQUEUE\s+unknown \(storage_unavailable\)/s), stderr: expect.stringMatching(unavailable) });
      // A health check in a script fails too.
      expect(daemonHealth).toMatchObject({ code: 1, stdout: expect.stringContaining("status: unhealthy") });
    } finally {
      // Back whatever happened above: a daemon left without its database cannot finish a shutdown either.
      await cluster!.execute(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS true`);
    }
    await eventually(async () => ((await client.sendSingle('state:set', { key: 'after', value: 2 })) as { status?: string }).status === 'set');
    expect(await client.sendSingle('state:get', { key: 'kept' })).toMatchObject({ found: true, value: 'before the outage' });
    expect(await client.sendSingle('state:get', { key: 'during' })).toMatchObject({ found: false });
    expect(await client.sendSingle('system:health', {})).toMatchObject({ status: expect.not.stringMatching('unhealthy'), database: { status: 'ok' } });
    // The log says when it ended: while it lasted, the retry loops' warnings were written once a minute at most.
    await eventually(() => daemon.readLog().includes('answers again: writes commit'), 5_000, 'the log saying the server answers again');
    await client.close();
  });

  it('a start on a database that does not exist fails with one line naming the server, the cause and what to do', async () => {
    const failing = new DaemonProcess({ env: { KSI_DATABASE_URL: cluster!.urlOf('ksi_never_created') } });
    try {
      await expect(failing.start()).rejects.toThrow();
      const { code } = await failing.waitForExit();
      expect(code).toBe(1);
      expect(failing.output.trim().split('\n')).toEqual([
        expect.stringMatching(/^KSI daemon cannot start: the PostgreSQL server at postgresql:\/\/\S*\/ksi_never_created\S*: database "ksi_never_created" does not exist \(3D000\); create the database/),
      ]);
    } finally {
      await failing.dispose();
    }
  });

  it('refuses text PostgreSQL cannot hold with invalid_params, naming why', async () => {
    const client = daemon.client();
    expect(await client.sendSingle('state:set', { key: 'nul\u0000key', value: 1 })).toEqual({ code: 'invalid_params', error: expect.stringContaining('holds the NUL character') });
    expect(await client.sendSingle('state:set', { key: 'fine', value: 'a\u0000b' })).toMatchObject({ status: 'set' });
    expect(await client.sendSingle('state:get', { key: 'fine' })).toMatchObject({ value: 'a\u0000b' });
    await client.close();
  });

  // Last: it stops the daemon.
  it('a stop while the server is away says that it logged errors while stopping, its checkpoint not written among them, and exits 1', async () => {
    const database = databaseNameOf(daemon.varDir);
    const exited = daemon.waitForExit();
    await cluster!.execute(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS false`);
    try {
      await cluster!.execute(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${database}'`);
      const stop = await ksi(['daemon', 'stop', '--socket', daemon.socketPath], { KSI_VAR_DIR: daemon.varDir });
      expect(stop).toEqual({ code: 1, stdout: `KSI daemon stopped (PID ${daemon.pid})\n`, stderr: expect.stringContaining('It did not stop cleanly: it logged these errors while stopping') });
      expect(stop.stderr).toMatch(/^ {2}checkpoint not written$/m);
      await exited;
    } finally {
      await cluster!.execute(`ALTER DATABASE "${database}" ALLOW_CONNECTIONS true`);
    }
  });
});
