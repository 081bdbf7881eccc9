import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cliMarkers, cliProcessesOf } from './cli-processes';

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
