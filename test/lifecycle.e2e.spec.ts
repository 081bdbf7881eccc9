import Database from 'better-sqlite3';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CompletionWatcher, fakeClaudeDaemon } from './support/completions';
import { onDaemonDatabase } from './support/daemon-database';
import { DaemonProcess, eventually } from './support/daemon-process';
import { ksi, KSI_BIN } from './support/ksi-cli';
import { alive } from './support/processes';
import { databaseEnv, dropDatabase, testBackend } from './support/test-database';

/** Tests of the SQLite file itself: its modes, its damage, its disk. */
const onSqliteFile = testBackend() === 'sqlite' ? it : it.skip;

const tempDir = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));
const modeOf = (file: string) => fs.statSync(file).mode & 0o777;
/** Runs the built daemon on `varDir` to its exit (for starts that must fail) and returns its exit and output. */
function runDaemonToExit(varDir: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  const daemon = new DaemonProcess({ varDir });
  return daemon.start().then(
    async () => {
      await daemon.stop('SIGKILL');
      throw new Error(`the daemon started: ${daemon.output}`);
    },
    async () => ({ ...(await daemon.waitForExit()), output: daemon.output }),
  );
}

/** A tmpfs of `size` at a new temporary mount point (root only); undefined when mounting is not possible. */
function mountTmpfs(size: string): string | undefined {
  const dir = tempDir('ksi-mount-');
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir]).status === 0) return dir;
  fs.rmdirSync(dir);
  return undefined;
}
function unmount(dir: string): void {
  spawnSync('umount', ['-l', dir]);
  fs.rmSync(dir, { recursive: true, force: true });
}
const probe = mountTmpfs('1m');
const noMounts = 'lifecycle.e2e: read-only and full-disk tests need a tmpfs, and mounting one needs root (CAP_SYS_ADMIN)';
if (probe) unmount(probe);
// CI runs as root: there a missing part is a failure, not a skip.
else if (process.env.CI === 'true') throw new Error(noMounts);
else process.stderr.write(`${noMounts}: skipped\n`);
const withMounts = probe ? describe : describe.skip;

/** Fills the file system holding `dir` until a write fails with ENOSPC; returns the filler file. */
function fillDisk(dir: string): string {
  const filler = path.join(dir, 'filler');
  const fd = fs.openSync(filler, 'w');
  const block = Buffer.alloc(64 * 1024);
  try {
    for (;;) fs.writeSync(fd, block);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    fs.closeSync(fd);
  }
  return filler;
}

describe('one daemon per var dir', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

  it('of four daemons started at once on one var dir exactly one comes up; the others exit 1 with one line naming its PID', async () => {
    const varDir = tempDir('ksi-race-');
    dirs.push(varDir);
    const daemons = Array.from({ length: 4 }, () => new DaemonProcess({ varDir }));
    const outcomes = await Promise.allSettled(daemons.map((daemon) => daemon.start()));
    const up = daemons.filter((_, i) => outcomes[i].status === 'fulfilled');
    try {
      expect(up).toHaveLength(1);
      for (const loser of daemons.filter((daemon) => !up.includes(daemon))) {
        expect((await loser.waitForExit()).code).toBe(1);
        expect(loser.output.trim().split('\n')).toEqual([expect.stringContaining(`A KSI daemon is already running (PID ${up[0].pid}) on ${varDir}`)]);
      }
      const client = up[0].client();
      expect((await client.sendSingle('system:health')).pid).toBe(up[0].pid);
      await client.close();
    } finally {
      for (const daemon of daemons) await daemon.stop('SIGKILL').catch(() => undefined);
    }
  });

  it('processes taking the lock at the same instant: exactly one gets it, round after round', async () => {
    const root = tempDir('ksi-contend-');
    dirs.push(root);
    const rounds = 4;
    for (let round = 0; round < rounds; round++) fs.mkdirSync(path.join(root, String(round), 'run'), { recursive: true });
    // Each round starts at one instant for all (a spin over its last 60 ms); a loser waits out the lock's retry time.
    const contender = `
      const { lockVarDir } = require(${JSON.stringify(path.resolve(__dirname, '../dist/src/lifecycle/single-instance.js'))});
      const held = [];
      process.stdin.once('data', async (start) => {
        const outcomes = [];
        for (let round = 0; round < ${rounds}; round++) {
          const at = Number(start) + round * 800;
          await new Promise((resolve) => setTimeout(resolve, at - Date.now() - 60));
          while (Date.now() < at) {}
          try {
            held.push(lockVarDir(${JSON.stringify(root)} + '/' + round));
            outcomes.push('won');
          } catch (error) {
            outcomes.push(error.constructor.name === 'AlreadyRunningError' ? 'lost' : error.message);
          }
        }
        process.stdout.write(JSON.stringify(outcomes) + '\\n');
        process.stdin.once('data', () => process.exit(0));
      });
      process.stdout.write('ready\\n');`;
    const children = Array.from({ length: 4 }, () => spawn(process.execPath, ['-e', contender], { stdio: ['pipe', 'pipe', 'inherit'] }));
    const lines = children.map((child) => {
      let output = '';
      child.stdout?.on('data', (chunk) => (output += chunk));
      return () => output.split('\n').filter(Boolean);
    });
    try {
      await eventually(() => lines.every((read) => read().length === 1), 15_000);
      const start = Date.now() + 200;
      for (const child of children) child.stdin?.write(String(start));
      await eventually(() => lines.every((read) => read().length === 2), 15_000);
      const outcomes = lines.map((read) => JSON.parse(read()[1]) as string[]);
      for (let round = 0; round < rounds; round++) expect(outcomes.map((of) => of[round]).sort()).toEqual(['lost', 'lost', 'lost', 'won']);
    } finally {
      for (const child of children) child.kill('SIGKILL');
    }
  });

  it.each([
    ['a regular file', (socket: string) => fs.writeFileSync(socket, 'precious'), 'a file that is not a socket'],
    ['a directory', (socket: string) => fs.mkdirSync(socket), 'a directory'],
  ])('refuses to start when the socket path is %s, and leaves it there', async (_kind, make, described) => {
    const varDir = tempDir('ksi-sockpath-');
    dirs.push(varDir);
    const socket = path.join(varDir, 'run', 'daemon.sock');
    fs.mkdirSync(path.dirname(socket), { recursive: true });
    make(socket);
    const { code, output } = await runDaemonToExit(varDir);
    expect(code).toBe(1);
    expect(output.trim().split('\n')).toEqual([`The socket path ${socket} is ${described}; move it away or set KSI_SOCKET_PATH to another path.`]);
    expect(fs.existsSync(socket)).toBe(true);
  });
});

describe('ksi daemon stop and status never signal a process that is not the daemon', () => {
  it('a stale PID file naming a live unrelated process: it survives, the CLI says what it found', async () => {
    const varDir = tempDir('ksi-stale-');
    const bystander = spawn('sleep', ['300'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => bystander.once('exit', resolve));
    try {
      const pidFile = path.join(varDir, 'run', 'ksi_daemon.pid');
      fs.mkdirSync(path.dirname(pidFile), { recursive: true });
      fs.writeFileSync(pidFile, `${bystander.pid}\n`);
      const env = { KSI_VAR_DIR: varDir };

      const status = await ksi(['daemon', 'status'], env);
      expect(status.code).toBe(1);
      expect(status.stdout).toContain(`stale PID file for PID ${bystander.pid}, which is another process now: sleep 300`);

      const stop = await ksi(['daemon', 'stop'], env);
      expect(stop.code).toBe(0);
      expect(stop.stdout).toBe(
        `KSI daemon is not running: the PID file named PID ${bystander.pid}, which is another process now (sleep 300); nothing was signalled, the stale PID file was removed\n`,
      );
      expect(alive(bystander.pid as number)).toBe(true);
      expect(fs.existsSync(pidFile)).toBe(false);
    } finally {
      bystander.kill('SIGKILL');
      await exited;
      fs.rmSync(varDir, { recursive: true, force: true });
    }
  });

  it('a daemon that holds the var dir but does not answer (stopped): status names it and returns', async () => {
    const daemon = await new DaemonProcess().start();
    const pid = daemon.pid as number;
    process.kill(pid, 'SIGSTOP');
    try {
      const status = await ksi(['daemon', 'status'], { KSI_VAR_DIR: daemon.varDir });
      expect(status).toMatchObject({ code: 1, stdout: `KSI daemon process ${pid} is alive (it holds ${daemon.varDir}/run/daemon.lock) but does not answer on ${daemon.socketPath}\n` });
    } finally {
      process.kill(pid, 'SIGCONT');
      await daemon.dispose();
    }
  });
});

describe('a private var dir', () => {
  it('creates the database, WAL, logs, response logs and sandboxes 0600/0700 under umask 022, and takes back modes an older daemon left open', async () => {
    const varDir = tempDir('ksi-modes-');
    fs.chmodSync(varDir, 0o755);
    fs.mkdirSync(path.join(varDir, 'db'), { mode: 0o755 });
    const oldDb = new Database(path.join(varDir, 'db', 'ksi.db'));
    oldDb.close();
    fs.chmodSync(path.join(varDir, 'db', 'ksi.db'), 0o644);
    const umask = process.umask(0o022);
    const daemon = fakeClaudeDaemon({ varDir });
    try {
      await daemon.start();
      const client = daemon.client();
      const watcher = new CompletionWatcher(client);
      const { request_id } = (await client.sendSingle('completion:async', { prompt: 'hello', conversation_id: 'modes' })) as { request_id: string };
      expect((await watcher.end(request_id)).event).toBe('completion:result');
      await client.close();

      const dirs = ['.', 'db', 'run', 'logs', 'logs/daemon', 'logs/responses', 'sandbox'];
      const databaseFiles = testBackend() === 'sqlite' ? ['db/ksi.db', 'db/ksi.db-wal', 'db/ksi.db-shm'] : [];
      const files = [...databaseFiles, 'logs/daemon/daemon.log', 'run/ksi_daemon.pid', 'run/daemon.lock', 'run/daemon.settings.json'];
      const responseLogs = fs.readdirSync(path.join(varDir, 'logs', 'responses'), { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
      expect(responseLogs.length).toBeGreaterThan(0);
      const modes = Object.fromEntries([
        ...dirs.map((dir) => [dir, modeOf(path.join(varDir, dir))]),
        ...files.map((file) => [file, modeOf(path.join(varDir, file))]),
        ...responseLogs.map((entry) => [entry.name, modeOf(path.join(entry.parentPath, entry.name))]),
      ]);
      expect(modes).toEqual(
        Object.fromEntries([...dirs.map((dir) => [dir, 0o700]), ...files.map((file) => [file, 0o600]), ...responseLogs.map((entry) => [entry.name, 0o600])]),
      );
    } finally {
      process.umask(umask);
      await daemon.dispose();
    }
  });
});

describe('readable start-up failures', () => {
  onSqliteFile('a garbage database file: exit 1 with one line naming the cause and the file', async () => {
    const varDir = tempDir('ksi-garbage-');
    try {
      const dbFile = path.join(varDir, 'db', 'ksi.db');
      fs.mkdirSync(path.dirname(dbFile));
      fs.writeFileSync(dbFile, Buffer.alloc(8192, 'not a database '));
      const { code, output } = await runDaemonToExit(varDir);
      expect(code).toBe(1);
      expect(output.trim().split('\n')).toEqual([`KSI daemon cannot start: the file is not a SQLite database: ${dbFile} (SQLITE_NOTADB); move it aside (KSI then starts an empty database) or set KSI_DB_PATH.`]);
    } finally {
      fs.rmSync(varDir, { recursive: true, force: true });
    }
  });

  onSqliteFile('a database damaged under the running daemon: system:health is unhealthy and names the fault', async () => {
    const daemon = new DaemonProcess({ env: { KSI_EVENT_LOG: 'off' } });
    try {
      await daemon.start();
      const client = daemon.client();
      for (let i = 0; i < 20; i++) await client.sendSingle('state:set', { key: `k${i}`, value: 'x'.repeat(10_000) });
      const dbFile = path.join(daemon.varDir, 'db', 'ksi.db');
      // Everything into the main file, then everything after its header overwritten.
      const other = new Database(dbFile);
      other.pragma('wal_checkpoint(TRUNCATE)');
      other.close();
      const fd = fs.openSync(dbFile, 'r+');
      const size = fs.fstatSync(fd).size;
      fs.writeSync(fd, Buffer.alloc(size - 100, 'garbage!'), 0, size - 100, 100);
      fs.closeSync(fd);
      expect(await client.sendSingle('system:health')).toMatchObject({
        status: 'unhealthy',
        database: { status: 'error', path: dbFile, sqlite_code: 'SQLITE_CORRUPT', error: 'database disk image is malformed' },
      });
      await client.close();
    } finally {
      await daemon.dispose();
    }
  });

  withMounts('on a real tmpfs', () => {
    const mounts: string[] = [];
    afterAll(() => mounts.forEach(unmount));
    const mount = (size: string) => {
      const dir = mountTmpfs(size) as string;
      mounts.push(dir);
      return dir;
    };

    it('a read-only var dir, fresh or used before: exit 1 with one line naming the cause and the path', async () => {
      const fs_ = mount('4m');
      const used = path.join(fs_, 'used');
      const before = await new DaemonProcess({ varDir: used }).start();
      await before.stop('SIGTERM');
      expect(spawnSync('mount', ['-o', 'remount,ro', fs_]).status).toBe(0);

      const again = await runDaemonToExit(used);
      expect(again.signal).toBeNull();
      expect(again.code).toBe(1);
      expect(again.output.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^KSI daemon cannot start: the file system is read-only: ${used}\\S* \\(EROFS\\); KSI needs a writable var dir`))]);

      const fresh = await runDaemonToExit(path.join(fs_, 'fresh'));
      expect(fresh.code).toBe(1);
      expect(fresh.output.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^KSI daemon cannot start: the file system is read-only: ${fs_}/fresh\\S* \\(EROFS\\)`))]);
    });

    it('a full disk at start: exit 1 with one line naming the cause and the path', async () => {
      const fs_ = mount('1m');
      fillDisk(fs_);
      const varDir = path.join(fs_, 'var');
      const { code, output } = await runDaemonToExit(varDir);
      expect(code).toBe(1);
      expect(output.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^KSI daemon cannot start: no space left on the device: ${varDir}\\S* \\((ENOSPC|SQLITE_FULL)\\); free some space`))]);
    });

    onSqliteFile('a disk that fills while running: writes answer storage_full, system:health is unhealthy, both recover when space is freed', async () => {
      const fs_ = mount('8m');
      const daemon = new DaemonProcess({ varDir: path.join(fs_, 'var'), env: { KSI_EVENT_LOG: 'off' } });
      try {
        await daemon.start();
        const client = daemon.client();
        const value = 'x'.repeat(256 * 1024);
        expect(await client.sendSingle('state:set', { key: 'before', value })).toMatchObject({ status: 'set' });
        const filler = fillDisk(fs_);

        // SQLite reuses the space its WAL already has: writes fail once they need more.
        let full: Record<string, unknown> | undefined;
        for (let i = 0; i < 64 && !full?.error; i++) full = (await client.sendSingle('state:set', { key: `during-${i}`, value })) as unknown as Record<string, unknown>;
        expect(full).toEqual({ code: 'storage_full', error: expect.stringMatching(/^The disk holding the database .*ksi\.db is full: nothing was written\. Free some space and retry\.$/) });
        const sick = await client.sendSingle('system:health');
        expect(sick).toMatchObject({ status: 'unhealthy', database: { status: 'error', sqlite_code: 'SQLITE_FULL' } });

        fs.rmSync(filler);
        expect(await client.sendSingle('state:set', { key: 'after', value })).toMatchObject({ status: 'set' });
        expect(await client.sendSingle('system:health')).toMatchObject({ status: 'healthy', database: { status: 'ok' } });
        expect(await client.getValue('state:get', { key: 'before' })).toBe(value);
        await client.close();
      } finally {
        await daemon.stop('SIGKILL').catch(() => undefined);
      }
    });
  });
});

describe('operator experience', () => {
  it('`ksi daemon restart` from another shell keeps the running daemon’s settings and names the variables this shell differs in', async () => {
    const varDir = tempDir('ksi-restart-');
    const elsewhere = tempDir('ksi-elsewhere-');
    try {
      const started = await ksi(['daemon', 'start'], { KSI_VAR_DIR: varDir, KSI_LOG_LEVEL: 'warn', KSI_RETRY_MAX_ATTEMPTS: '7' });
      expect(started.code).toBe(0);
      const restart = await ksi(['daemon', 'restart'], { KSI_VAR_DIR: varDir, KSI_LOG_LEVEL: 'error' }, elsewhere);
      expect(restart.code).toBe(0);
      expect(restart.stdout).toContain("Kept the previous daemon's settings; this shell differs in KSI_LOG_LEVEL, KSI_RETRY_MAX_ATTEMPTS");
      const pid = Number(/started \(PID (\d+)\)/.exec(restart.stdout)?.[1]);
      const environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      expect(environ).toEqual(expect.arrayContaining(['KSI_LOG_LEVEL=warn', 'KSI_RETRY_MAX_ATTEMPTS=7']));
    } finally {
      await ksi(['daemon', 'stop'], { KSI_VAR_DIR: varDir });
      fs.rmSync(varDir, { recursive: true, force: true });
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('Ctrl-C on `ksi daemon dev` (SIGINT to its process group, as a terminal sends it) is one graceful stop', async () => {
    const varDir = tempDir('ksi-dev-');
    let dev: ChildProcess | undefined;
    try {
      // Its own process group, like a shell's foreground job.
      const env = { ...process.env, KSI_VAR_DIR: varDir, KSI_LOG_LEVEL: 'info', ...(await databaseEnv(varDir)) };
      dev = spawn(process.execPath, [KSI_BIN, 'daemon', 'dev'], { env, stdio: 'pipe', detached: true });
      let output = '';
      dev.stdout?.on('data', (chunk) => (output += chunk));
      dev.stderr?.on('data', (chunk) => (output += chunk));
      const exited = new Promise<number | null>((resolve) => dev?.once('exit', (code) => resolve(code)));
      await eventually(() => output.includes('ready'), 15_000);
      process.kill(-(dev.pid as number), 'SIGINT');
      expect(await exited).toBe(0);

      const log = fs.readFileSync(path.join(varDir, 'logs', 'daemon', 'daemon.log'), 'utf8');
      expect(log).not.toContain('second signal');
      const runs = await onDaemonDatabase<{ shutdown: string | null }>(varDir, 'SELECT shutdown FROM daemon_runs');
      expect(runs).toHaveLength(1);
      expect(JSON.parse(runs[0].shutdown ?? 'null')).toMatchObject({ clean: true });
    } finally {
      if (dev?.exitCode === null && dev.signalCode === null) process.kill(-(dev.pid as number), 'SIGKILL');
      await ksi(['daemon', 'stop'], { KSI_VAR_DIR: varDir });
      fs.rmSync(varDir, { recursive: true, force: true });
      await dropDatabase(varDir);
    }
  });
});
