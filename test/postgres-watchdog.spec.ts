import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { postgresBinDir } from '../bench/postgres-cluster';
import { eventually } from './support/daemon-process';
import { alive } from './support/processes';

// The postgres project also runs on a server named by KSI_TEST_DATABASE_URL, where this machine may have no server programs.
const serverPrograms = postgresBinDir();
if (!serverPrograms) console.log('PostgreSQL server programs not found (pg_config --bindir): the throwaway cluster watchdog test is skipped.');

(serverPrograms ? describe : describe.skip)('the throwaway PostgreSQL cluster of the tests and the bench', () => {
  it('is stopped and removed when the process that started it dies without stopping it', async () => {
    const built = path.join(__dirname, '..', 'dist', 'bench', 'postgres-cluster.js');
    const owner = spawn(process.execPath, ['-e', `console.log(require(${JSON.stringify(built)}).startPostgresCluster().url); setInterval(() => {}, 60_000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const { value: url } = await createInterface({ input: owner.stdout! })[Symbol.asyncIterator]().next();
      // WHATWG URL refuses a host-less URL with a user name; the socket folder is its `host` parameter.
      const dir = new URLSearchParams(String(url).split('?')[1]).get('host')!;
      const server = Number(fs.readFileSync(path.join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
      expect(alive(server)).toBe(true);
      owner.kill('SIGKILL');
      await eventually(() => !alive(server) && !fs.existsSync(dir), 20_000, 'the cluster of a killed run to be stopped and removed');
    } finally {
      owner.kill('SIGKILL');
    }
  });
});
