import { spawn } from 'node:child_process';
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

  it("once the CLI is reaped, signals its group's stragglers by their markers and never the group id, which the kernel may have given to another group", async () => {
    const varDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksi-var-'));
    const markers = cliMarkers(varDir, 'r-1');
    const child = spawn(process.execPath, ['-e', cli], { detached: true, stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, ...markers } });
    const helperPid = Number((await once(child.stdout, 'data'))[0]);
    try {
      const exited = once(child, 'exit');
      signalCli(child, 'SIGTERM', markers);
      await exited;
      expect(alive(helperPid)).toBe(true);
      const kill = jest.spyOn(process, 'kill');
      try {
        signalCli(child, 'SIGKILL', markers);
        expect(kill.mock.calls).toEqual([[helperPid, 'SIGKILL']]);
      } finally {
        kill.mockRestore();
      }
      await eventually(() => !alive(helperPid), 10_000, 'the helper to die');
    } finally {
      if (alive(helperPid)) process.kill(helperPid, 'SIGKILL');
      fs.rmSync(varDir, { recursive: true, force: true });
    }
  });
});
