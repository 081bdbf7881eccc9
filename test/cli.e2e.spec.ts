import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { eventually } from './support/daemon-process';
import { ksi, KSI_BIN, type CliResult } from './support/ksi-cli';
import { databaseEnv, dropDatabase } from './support/test-database';

// Each `ksi` call is a Node process start (0.6 s idle, 1-2 s on a loaded machine) and these tests make a dozen.
jest.setTimeout(60_000);

describe('the ksi CLI (built binary, real daemon)', () => {
  const varDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksi-cli-'));
  const env: Record<string, string> = { KSI_VAR_DIR: varDir, KSI_LOG_LEVEL: 'warn' };
  const pidFile = path.join(varDir, 'run', 'ksi_daemon.pid');

  beforeAll(async () => Object.assign(env, await databaseEnv(varDir)));
  afterAll(async () => {
    await ksi(['daemon', 'stop'], env);
    fs.rmSync(varDir, { recursive: true, force: true });
    await dropDatabase(varDir);
  });

  it('starts, reports status, sends, gets and sets, and stops the daemon', async () => {
    const start = await ksi(['daemon', 'start'], env);
    expect(start.code).toBe(0);
    expect(start.stdout).toMatch(/✓ KSI daemon started \(PID (\d+)\)/);
    expect(start.stdout).toContain(`Socket: ${path.join(varDir, 'run', 'daemon.sock')}`);
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    expect(start.stdout).toContain(`PID ${pid}`);
    expect(fs.readFileSync(path.join(varDir, 'logs', 'daemon', 'daemon_startup.log'), 'utf8')).toContain('ready');

    const again = await ksi(['daemon', 'start'], env);
    expect(again).toMatchObject({ code: 0 });
    expect(again.stdout).toContain(`already running (PID ${pid})`);

    const status = await ksi(['daemon', 'status'], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`KSI daemon is running (PID ${pid})`);

    const set = await ksi(['send', 'state:set', '--key', 'config', '--value', '{"theme":"dark"}', '--namespace', 'cli'], env);
    expect(set).toMatchObject({ code: 0 });
    expect(set.stdout).toContain('status: set');
    expect((await ksi(['get', 'state', '--key', 'config', '--namespace', 'cli'], env)).stdout).toBe('{\n  "theme": "dark"\n}\n');

    await ksi(['set', 'state', '--key', 'plain', '--value', 'hello world'], env);
    expect((await ksi(['get', 'state', '--key', 'plain'], env)).stdout).toBe('hello world\n');

    const health = await ksi(['daemon', 'health'], env);
    expect(health).toMatchObject({ code: 0, stdout: expect.stringContaining('status: healthy') });

    const stop = await ksi(['daemon', 'stop'], env);
    expect(stop).toMatchObject({ code: 0 });
    expect(stop.stdout).toContain(`✓ KSI daemon stopped (PID ${pid})`);
    expect(fs.existsSync(pidFile)).toBe(false);

    const stopAgain = await ksi(['daemon', 'stop'], env);
    expect(stopAgain).toMatchObject({ code: 0, stdout: 'KSI daemon is not running\n' });
    expect((await ksi(['daemon', 'status'], env)).code).toBe(1);
  });

  it('parses --key value pairs as JSON when they parse, strings otherwise', async () => {
    await ksi(['daemon', 'start'], env);
    await ksi(['send', 'state:set', '--key', 'n', '--value', '5'], env);
    await ksi(['send', 'state:set', '--key', 's', '--value', '"5"'], env);
    await ksi(['send', 'state:set', '--key', 'b', '--value', 'true'], env);
    await ksi(['send', 'state:set', '--key', 'w', '--value', 'two words'], env);
    await ksi(['send', 'state:set', '--json', '{"key": "j", "value": [1, {"a": null}]}'], env);
    const read = async (key: string) => JSON.parse((await ksi(['send', 'state:get', '--key', key, '--output', 'json'], env)).stdout).value;
    expect(await read('n')).toBe(5);
    expect(await read('s')).toBe('5');
    expect(await read('b')).toBe(true);
    expect(await read('w')).toBe('two words');
    expect(await read('j')).toEqual([1, { a: null }]);
  });

  it('exits 1 with the daemon’s error, and 2 on usage errors', async () => {
    await ksi(['daemon', 'start'], env);
    const unknown = await ksi(['send', 'state:gett', '--key', 'x'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('Did you mean state:get');
    const invalid = await ksi(['send', 'state:get'], env);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('key: Required');
    const missing = await ksi(['get', 'state', '--key', 'never-set'], env);
    expect(missing).toMatchObject({ code: 1, stderr: 'Key not found: never-set (namespace: global)\n' });

    const badJson = await ksi(['send', 'state:set', '--json', '{not json'], env);
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toMatch(/--json is not valid JSON/);
    for (const args of [['send', 'state:set', '--key', 'huge', '--value', '1e400'], ['send', 'state:set', '--json', '{"key":"huge","value":[1e400]}'], ['set', 'state', '--key', 'huge', '--value', '1e400']]) {
      const huge = await ksi(args, env);
      expect(huge.code).toBe(2);
      expect(huge.stderr).toContain('too large for JSON');
    }
    expect((await ksi(['get', 'state', '--key', 'huge'], env)).code).toBe(1);
    const notEvent = await ksi(['send', 'health'], env);
    expect(notEvent.code).toBe(2);
    const command = await ksi(['bogus'], env);
    expect(command.code).toBe(2);
    expect(command.stderr).toContain("unknown command 'bogus'");
    const missingArgument = await ksi(['send'], env);
    expect(missingArgument.code).toBe(2);
    expect(missingArgument.stderr).toContain("missing required argument 'event'");
    const subcommand = await ksi(['daemon', 'strat'], env);
    expect(subcommand.code).toBe(2);
    expect(subcommand.stderr).toContain("unknown command 'strat'");
  });

  it('exits 3 with a sentence on how to start the daemon when it cannot be reached', async () => {
    const result = await ksi(['send', 'system:health'], { KSI_VAR_DIR: path.join(varDir, 'nowhere') });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/Cannot reach the KSI daemon at .*nowhere.*Start it with `npx ksi daemon start`/);
  });

  it('recovers from a stale PID file left by a killed daemon', async () => {
    await ksi(['daemon', 'start'], env);
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    process.kill(pid, 'SIGKILL');
    const status = (await eventually(async () => {
      const result = await ksi(['daemon', 'status'], env);
      return result.stdout.includes('stale PID file') ? result : undefined;
    })) as CliResult;
    expect(status.code).toBe(1);
    expect(status.stdout).toContain(`stale PID file for PID ${pid}`);
    const start = await ksi(['daemon', 'start'], env);
    expect(start.code).toBe(0);
    expect(Number(fs.readFileSync(pidFile, 'utf8'))).not.toBe(pid);
    await ksi(['daemon', 'stop'], env);
    await ksi(['daemon', 'start'], env);
    const newPid = Number(fs.readFileSync(pidFile, 'utf8'));
    process.kill(newPid, 'SIGKILL');
    await eventually(async () => !(await ksi(['daemon', 'status'], env)).stdout.includes('alive'));
    const stop = await ksi(['daemon', 'stop'], env);
    expect(stop.stdout).toContain(`removed the stale PID file of PID ${newPid}`);
    expect(fs.existsSync(pidFile)).toBe(false);
  });

  it('honours --socket on every command', async () => {
    const socket = path.join(varDir, 'custom.sock');
    const start = await ksi(['daemon', 'start', '--socket', socket], env);
    expect(start.stdout).toContain(`Socket: ${socket}`);
    expect((await ksi(['send', 'system:health', '--socket', socket], env)).code).toBe(0);
    expect((await ksi(['send', 'system:health', '--socket', socket], { KSI_VAR_DIR: path.join(varDir, 'elsewhere') })).code).toBe(0);
    expect((await ksi(['daemon', 'stop', '-s', socket], env)).stdout).toContain('stopped');
  });

  it('describes events with help and discover, and lists commands with --help', async () => {
    await ksi(['daemon', 'start'], env);
    const help = await ksi(['help', 'state:set'], env);
    expect(help.stdout).toMatch(/state:set\s+\(state module\)/);
    expect(help.stdout).toMatch(/--key\s+string\s+required/);
    expect(help.stdout).toMatch(/--namespace\s+string\s+optional\s+Namespace of the key \(default: global; an agent's: agent:<its id>\)/);
    expect(help.stdout).toContain("$ npx ksi send state:set --key '<key>' --value '<value>'");
    expect(help.stdout).toMatch(/Result\n(.*\n)*\s+status\s+string\s+required/);
    const pushed = await ksi(['help', 'completion:progress'], env);
    expect(pushed.stdout).toMatch(/completion:progress\s+\(pushed by the daemon; subscribe, do not send\)/);
    expect(pushed.stdout).toMatch(/Payload\n\s+request_id\s+string\s+required.*\n(.*\n)*\s+status\s+string\s+required/);
    expect(pushed.stdout).toMatch(/shape 2 of 6: status = "streaming"\n\s+delta\s+string\s+required\s+The next piece of the answer/);
    expect(pushed.stdout).toMatch(/Example line\n\s+\{"event":"completion:progress","data":\{"request_id":"<request_id>",.*"status":"calling_llm"/);
    const union = await ksi(['help', 'completion:status'], env);
    expect(union.stdout).toMatch(/Result\n\s+shape 1 of 2\n(.*\n)*\s+request_id\s+string\s+required.*\n(.*\n)*\s+status\s+string\s+required/);
    expect(union.stdout).toMatch(/shape 2 of 2\n\s+status_counts\s+object\s+required/);
    expect(union.stdout).not.toContain('(none)');
    // More than a shell pipe takes at once (64 KiB): the whole document arrives before the CLI exits.
    const discovered = await new Promise<string>((resolve, reject) => {
      const piped = spawn('sh', ['-c', `"${process.execPath}" "${KSI_BIN}" send system:discover --output json | cat`], { env: { ...process.env, ...env } });
      let stdout = '';
      piped.stdout.on('data', (chunk) => (stdout += chunk));
      piped.once('error', reject);
      piped.once('close', () => resolve(stdout));
    });
    expect(Buffer.byteLength(discovered)).toBeGreaterThan(65_536);
    expect(Object.keys(JSON.parse(discovered).events)).toContain('state:get');
    const unknown = await ksi(['help', 'state:sett'], env);
    expect(unknown).toMatchObject({ code: 1 });
    expect(unknown.stderr).toContain('Did you mean state:set');

    const discover = await ksi(['discover', '--namespace', 'async_state'], env);
    expect(discover.stdout).toContain('async_state (7)');
    expect(discover.stdout).toMatch(/async_state:pop\s+Remove and return the head of a queue/);

    const usage = await ksi(['--help']);
    expect(usage.code).toBe(0);
    for (const command of ['send', 'get', 'set', 'discover', 'help', 'monitor', 'daemon', 'Examples:', 'Exit status']) expect(usage.stdout).toContain(command);
    const daemonHelp = await ksi(['daemon', '--help']);
    for (const command of ['start', 'stop', 'restart', 'status', 'health', 'run', 'dev']) expect(daemonHelp.stdout).toContain(command);
  });

  it('runs the daemon in the foreground with `daemon run` and stops it with SIGTERM', async () => {
    const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksi-run-'));
    const child = spawn(process.execPath, [KSI_BIN, 'daemon', 'run'], { env: { ...process.env, KSI_VAR_DIR: runDir, KSI_LOG_LEVEL: 'warn', ...(await databaseEnv(runDir)) }, stdio: 'pipe' });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    await eventually(() => output.includes('ready'));
    expect((await ksi(['send', 'system:health'], { KSI_VAR_DIR: runDir })).code).toBe(0);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(fs.existsSync(path.join(runDir, 'run', 'daemon.sock'))).toBe(false);
    fs.rmSync(runDir, { recursive: true, force: true });
    await dropDatabase(runDir);
  });
});
