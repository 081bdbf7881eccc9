import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { eventually } from '../../../test/support/daemon-process';
import { alive } from '../../../test/support/processes';
import { cliMarkers, cliProcessesOf, signalCli } from './cli-processes';

describe('cliProcessesOf (a /proc laid out in a temporary folder)', () => {
  let proc: string;
  const processWith = (pid: number | string, env: Record<string, string> | undefined) => {
    fs.mkdirSync(path.join(proc, String(pid)));
    if (env) fs.writeFileSync(path.join(proc, String(pid), 'environ'), Object.entries(env).map(([key, value]) => `${key}=${value}\0`).join(''));
  };
  beforeEach(() => (proc = fs.mkdtempSync(path.join(os.tmpdir(), 'ksi-proc-'))));
  afterEach(() => fs.rmSync(proc, { recursive: true, force: true }));

  it("finds only processes marked with this var dir, never another daemon's, a longer path's, an unreadable one or itself", () => {
    processWith(101, { PATH: '/bin', ...cliMarkers('/srv/ksi/var', 'r-1') });
    processWith(102, { ...cliMarkers('/srv/ksi/var-other', 'r-2') });
    processWith(103, { ...cliMarkers('/srv/ksi/var/nested', 'r-3') });
    processWith(104, { HOME: '/root', NOTE: 'KSI_CLI_OWNER=/srv/ksi/var' });
    processWith(105, undefined);
    processWith(process.pid, cliMarkers('/srv/ksi/var', 'self'));
    processWith('self', cliMarkers('/srv/ksi/var', 'link'));
    expect(cliProcessesOf('/srv/ksi/var', proc)).toEqual([101]);
  });
});

describe('signalCli (real processes)', () => {
  // A CLI that dies on SIGTERM and leaves a helper in its group that ignores SIGTERM, as a tool's may.
  // The helper prints its pid once it ignores SIGTERM.
  const cli = `
    require('node:child_process').spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); console.log(process.pid); setInterval(() => {}, 1000)"], { stdio: ['ignore', 'inherit', 'ignore'] });
    setInterval(() => {}, 1000);`;
  let helperPid: number;
  let child: ChildProcess;
  let kill: jest.SpiedFunction<typeof process.kill>;

  beforeEach(async () => {
    child = spawn(process.execPath, ['-e', cli], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    helperPid = Number((await once(child.stdout!, 'data'))[0]);
    const exited = once(child, 'exit');
    signalCli(child, 'SIGTERM');
    await exited;
    expect(alive(helperPid)).toBe(true);
    kill = jest.spyOn(process, 'kill');
  });
  afterEach(() => {
    kill.mockRestore();
    if (alive(helperPid)) process.kill(helperPid, 'SIGKILL');
  });

  it("once the CLI is reaped, still signals what is left in its group: the group's id is nobody else's while it has a member", async () => {
    signalCli(child, 'SIGKILL');
    expect(kill.mock.calls).toEqual([[-child.pid!, 'SIGKILL']]);
    await eventually(() => !alive(helperPid), 10_000, 'the helper to die');
  });

  it('signals nothing once another process has the reaped CLI\'s pid: the kernel may have given it to the leader of another group', () => {
    const proc = fs.mkdtempSync(path.join(os.tmpdir(), 'ksi-proc-'));
    try {
      fs.mkdirSync(path.join(proc, String(child.pid)));
      signalCli(child, 'SIGKILL', proc);
      expect(kill).not.toHaveBeenCalled();
    } finally {
      fs.rmSync(proc, { recursive: true, force: true });
    }
  });
});
