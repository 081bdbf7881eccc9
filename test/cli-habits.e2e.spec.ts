import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { fakeClaudeDaemon, useFakeClaudeDaemon } from './support/completions';
import { eventually } from './support/daemon-process';
import { background, ksi, KSI_BIN } from './support/ksi-cli';

// Each `ksi` call is a Node process start (0.3-2 s on a loaded machine) and these tests make many.
jest.setTimeout(60_000);

describe('the ksi CLI’s everyday habits (built binary, real daemon)', () => {
  const { daemon, send } = useFakeClaudeDaemon({ env: { KSI_LOG_LEVEL: 'info' } });
  const run = (...args: string[]) => ksi([...args, '--socket', daemon.socketPath]);

  beforeAll(async () => {
    await send('agent:spawn', { profile: 'base_agent', agent_id: 'habits-1' });
    await send('budget:set', { scope: 'global', limit_usd: 50, period: 'month' });
  });

  it('prints the same data with -o json, yaml, table and wide, and refuses another format as a usage error', async () => {
    const listed = await send('agent:list', {});
    const json = await run('agent', 'list', '-o', 'json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(listed);
    expect(parseYaml((await run('agent', 'list', '-o', 'yaml')).stdout)).toEqual(listed);
    const table = (await run('agent', 'list')).stdout;
    expect(table).toMatch(/^AGENT\s+STATUS\s+PROFILE/);
    expect(table).toContain('habits-1');
    expect(table).not.toContain('MODEL');
    const wide = (await run('agent', 'list', '-o', 'wide')).stdout;
    expect(wide).toMatch(/MODEL\s+PERMISSIONS\s+RESTARTS\s+NODE/);
    const { node_id: nodeId } = listed.agents.find((agent: { agent_id: string }) => agent.agent_id === 'habits-1');
    expect(wide.split('\n').find((line) => line.startsWith('habits-1 '))).toContain(` ${nodeId} `);
    expect(JSON.parse((await run('budget', 'list', '-o', 'json')).stdout)).toEqual(await send('budget:list'));
    expect(JSON.parse((await run('costs', '--by', 'day', '-o', 'json')).stdout)).toMatchObject({ by: 'day', totals: expect.any(Object) });
    for (const command of [['agent', 'list'], ['budget', 'list'], ['costs'], ['send', 'system:health'], ['status'], ['approvals']]) {
      const refused = await run(...command, '-o', 'xml');
      expect(refused).toMatchObject({ code: 2, stdout: '' });
      expect(refused.stderr).toContain('-o xml is not one of table, wide, json, yaml');
    }
  });

  it('answers to `agent ls` and `agent stop`, as pm2 and kubectl users type them', async () => {
    expect((await run('agent', 'ls')).stdout).toBe((await run('agent', 'list')).stdout);
    await send('agent:spawn', { profile: 'base_agent', agent_id: 'habits-stop' });
    expect(await run('agent', 'stop', 'habits-stop')).toMatchObject({ code: 0, stdout: 'terminated habits-stop\n' });
    expect((await send('agent:list', {})).agents.map((agent: { agent_id: string }) => agent.agent_id)).not.toContain('habits-stop');
  });

  it('shows the correlation id of what `ksi send` sent, which `ksi trace` then follows; an unknown one exits 1', async () => {
    const sent = await run('send', 'state:set', '--key', 'traced', '--value', '1');
    expect(sent.code).toBe(0);
    const id = /correlation id (\S+) \(ksi trace \1\)/.exec(sent.stderr)?.[1];
    expect(id).toBeDefined();
    // The event log writes in batches: the trace is there once its batch is.
    const traced = await eventually(async () => {
      const result = await run('trace', id!);
      return result.code === 0 ? result.stdout : undefined;
    }, 10_000, 'the trace of the request ksi send made');
    expect(traced).toContain('state:set');
    // -o json: only the data on stdout, nothing else to parse around.
    const json = await run('send', 'system:health', '-o', 'json');
    expect(JSON.parse(json.stdout)).toMatchObject({ status: expect.any(String) });
    expect(json.stderr).toBe('');
    const unknown = await run('trace', 'no-such-correlation');
    expect(unknown).toMatchObject({ code: 1, stdout: '' });
    expect(unknown.stderr).toContain('No events recorded for no-such-correlation');
  });

  it('`ksi status` shows the daemon, nodes, queue, approvals and agents in one table', async () => {
    const status = await run('status');
    expect(status.code).toBe(0);
    for (const label of ['DAEMON', 'NODES', 'QUEUE', 'APPROVALS']) expect(status.stdout).toContain(label);
    // One node: no need to say whose numbers they are (postgres-cluster checks a cluster's line).
    expect(status.stdout).toMatch(/QUEUE\s+0 running of \d+ at most, 0 queued, 0 retrying, 0 parked\n/);
    expect(status.stdout).toMatch(/habits-1\s+idle\s+base_agent/);
    const json = JSON.parse((await run('status', '-o', 'json')).stdout);
    expect(json).toMatchObject({ daemon: { pid: daemon.pid }, queue: { limit: expect.any(Number) }, approvals: [], agents: expect.arrayContaining([expect.objectContaining({ agent_id: 'habits-1' })]) });
  });

  it('`ksi daemon logs` prints the log as readable lines, filters by level, and gives the raw lines with --json', async () => {
    // The log is found by the var dir (KSI_VAR_DIR), as `ksi daemon status` finds it: it is read when the daemon is down too.
    const logsOf = (...args: string[]) => ksi(['daemon', 'logs', ...args], { KSI_VAR_DIR: daemon.varDir });
    const logs = await logsOf();
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/^\d{4}-\d{2}-\d{2}T\S+ INFO {2}daemon ready socket=/m);
    const raw = (await logsOf('--json')).stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(raw).toEqual(expect.arrayContaining([expect.objectContaining({ level: 'info', msg: 'daemon ready' })]));
    expect((await logsOf('--level', 'error')).stdout).not.toContain('daemon ready');
    expect(await logsOf('--level', 'loud')).toMatchObject({ code: 2, stderr: expect.stringContaining('--level loud is not one of debug, info, warn, error, fatal') });
  });

  it('`ksi agent logs -f` prints each turn of the agent as it finishes, and stops with exit 1 when the agent is terminated', async () => {
    await send('agent:spawn', { profile: 'base_agent', agent_id: 'habits-follow' });
    const follower = background(['agent', 'logs', 'habits-follow', '-f', '--socket', daemon.socketPath]);
    try {
      await eventually(() => follower.stderr().includes("Following habits-follow's turns"), 20_000, 'the follower to start');
      await send('agent:send_message', { agent_id: 'habits-follow', message: { prompt: 'followed turn' } });
      await eventually(() => follower.stdout().includes('echo: followed turn'), 20_000, 'the turn in the followed log');
      await send('agent:terminate', { agent_id: 'habits-follow' });
      expect(await follower.exit).toBe(1);
      expect(follower.stderr()).toContain('Stopped following habits-follow');
    } finally {
      follower.child.kill('SIGINT');
    }
  });

  it('`ksi agent logs -f` ends on Ctrl-C with exit 0', async () => {
    const follower = background(['agent', 'logs', 'habits-1', '-f', '--socket', daemon.socketPath]);
    await eventually(() => follower.stderr().includes("Following habits-1's turns"), 20_000, 'the follower to start');
    follower.child.kill('SIGINT');
    expect(await follower.exit).toBe(0);
  });

  it('`ksi complete --wait` shows the time it has waited and, on Ctrl-C, says how to follow or cancel the request', async () => {
    const waiting = background(['complete', '[[hang]] never answers', '--wait', '--socket', daemon.socketPath]);
    const requestId = await eventually(() => /\[\d+s\] queued (\S+)/.exec(waiting.stderr())?.[1], 20_000, 'the queued line');
    await eventually(() => /\[\d+s\] calling Claude \(attempt 1\)/.test(waiting.stderr()), 20_000, 'the calling line');
    waiting.child.kill('SIGINT');
    expect(await waiting.exit).toBe(130);
    expect(waiting.stderr()).toContain(`Left ${requestId} running`);
    expect(waiting.stderr()).toContain(`ksi send completion:cancel --request_id ${requestId}`);
    expect(await send('completion:cancel', { request_id: requestId })).toMatchObject({ status: 'cancelled' });
  });

  it('on a terminal, `ksi complete --wait` spins with the time it has waited, and Ctrl-C asks whether to cancel the request', async () => {
    // util-linux's script gives the command a terminal (sized, as a real one is); Ctrl-C is typed into it.
    const command = `stty cols 120 rows 40; exec "${process.execPath}" "${KSI_BIN}" complete '[[hang]] on a terminal' --wait --socket "${daemon.socketPath}"`;
    const terminal = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    terminal.stdout!.on('data', (chunk) => (screen += chunk));
    const exit = new Promise<number | null>((resolve) => terminal.once('exit', (code) => resolve(code)));
    try {
      await eventually(() => /calling Claude \(attempt 1\) \S*\(\d+s, Ctrl-C to stop waiting\)/.test(screen), 20_000, 'the spinner line');
      terminal.stdin!.write('\u0003');
      const requestId = await eventually(() => /Cancel request (\S+) too\? \[y\/N\]/.exec(screen)?.[1], 20_000, 'the question');
      terminal.stdin!.write('y\r');
      expect(await exit).toBe(130);
      expect(screen).toContain(`Cancelled ${requestId}`);
      expect(await send('completion:status', { request_id: requestId })).toMatchObject({ status: 'cancelled' });
    } finally {
      terminal.kill('SIGKILL');
    }
  });

  it('prints completion scripts for bash, zsh and fish that complete commands, subcommands and event names', async () => {
    const script = await run('completion', 'bash');
    expect(script.code).toBe(0);
    const file = path.join(daemon.varDir, 'ksi.bash');
    fs.writeFileSync(file, script.stdout);
    // `ksi` on PATH, as the script calls it for event names, speaking to this daemon.
    const bin = path.join(daemon.varDir, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, 'ksi'), `#!/bin/sh\nexec "${process.execPath}" "${KSI_BIN}" "$@" --socket "${daemon.socketPath}"\n`, { mode: 0o755 });
    const complete = (line: string) =>
      execFileSync('bash', ['-c', `source "${file}"; COMP_LINE="${line}"; COMP_POINT=\${#COMP_LINE}; _ksi; echo "\${COMPREPLY[*]}"`], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, encoding: 'utf8' }).trim().split(' ');
    expect(complete('ksi ag')).toEqual(['agent']);
    expect(complete('ksi agent s')).toEqual(['spawn', 'send', 'stop']);
    expect(complete('ksi send state:g')).toEqual(['get']);
    expect(complete('ksi help system:he')).toEqual(['health', 'help']);
    for (const shell of ['zsh', 'fish']) {
      const text = (await run('completion', shell)).stdout;
      expect(text).toContain('ksi completion --events');
      expect(text).toContain('agent');
      // Checked by the shell itself where it is installed.
      const scriptFile = path.join(daemon.varDir, `ksi.${shell}`);
      fs.writeFileSync(scriptFile, text);
      if (spawnSync('which', [shell]).status === 0) expect(spawnSync(shell, ['-n', scriptFile], { encoding: 'utf8' })).toMatchObject({ status: 0, stderr: '' });
    }
    expect(await run('completion', 'powershell')).toMatchObject({ code: 2, stderr: expect.stringContaining('bash, zsh, fish') });
  });

  it('`ksi monitor` and `ksi daemon logs -f` see the daemon stop; monitor then exits 3 saying so', async () => {
    const other = fakeClaudeDaemon({ env: { KSI_LOG_LEVEL: 'info' } });
    await other.start();
    const monitor = background(['monitor', '--socket', other.socketPath]);
    const logs = background(['daemon', 'logs', '-f'], { KSI_VAR_DIR: other.varDir });
    try {
      await eventually(() => monitor.stderr().includes('Monitoring') && logs.stderr().includes('Following'), 20_000, 'monitor and logs -f to start');
      const client = other.client();
      await client.sendSingle('state:set', { key: 'monitored', value: 1 });
      await client.close();
      // One node: its lines do not name it.
      await eventually(() => /^\d{2}:\d{2}:\d{2}\.\d{3} state:set \{"key":"monitored"/m.test(monitor.stdout()), 10_000, 'the state:set on the monitor, without a node');
      await other.stop('SIGTERM');
      expect(await monitor.exit).toBe(3);
      expect(monitor.stderr()).toContain('The daemon went away');
      await eventually(() => logs.stdout().includes('shutdown started'), 20_000, 'the shutdown in the followed log');
    } finally {
      monitor.child.kill('SIGINT');
      logs.child.kill('SIGINT');
      await other.dispose();
    }
    expect(await logs.exit).toBe(0);
  });
});
