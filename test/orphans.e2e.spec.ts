import * as fs from 'node:fs';
import * as path from 'node:path';
import { eventually } from './support/daemon-process';
import { FAKE_CLAUDE, fakeClaudeDaemon } from './support/completions';

/** Live fake CLIs logging into this var dir (the daemons carry the same variable, but run another program). */
function fakeClisOf(varDir: string): number[] {
  const entry = `FAKE_CLAUDE_LOG=${path.join(varDir, 'fake-claude.jsonl')}`;
  return fs
    .readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        const isFake = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(FAKE_CLAUDE);
        return isFake && !/\) Z /.test(stat) && fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(entry);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Spins (synchronously, so the kill lands as early as possible) until the daemon has forked a fake CLI. */
function untilCliForked(daemonPid: number, timeoutMs = 5_000): void {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const name of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const ppid = Number(fs.readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
        if (ppid === daemonPid) return;
      } catch {
        // gone meanwhile
      }
    }
  }
  throw new Error(`the daemon forked no CLI within ${timeoutMs} ms`);
}

describe('a daemon killed with SIGKILL right after a submit', () => {
  // 'fork' kills the daemon the moment it has forked the CLI, before it could record the pid.
  it.each([['0 ms', 0], ['25 ms', 25], ['fork', 'fork']] as const)(
    'leaves no CLI of the dead daemon running after the restart, and the request completes exactly once (kill after %s)',
    async (_name, when) => {
      // The dead daemon's CLIs would run for 60 s (longer than this test): only the restart's cleanup ends them early.
      const first = fakeClaudeDaemon({ env: { FAKE_CLAUDE_SLEEP_MS: '60000' } });
      let second: ReturnType<typeof fakeClaudeDaemon> | undefined;
      try {
        await first.start();
        const client = first.client();
        const prompt = `orphan check ${when}`;
        const { request_id } = (await client.sendSingle('completion:async', { prompt })) as { request_id: string };
        if (when === 'fork') untilCliForked(first.pid as number);
        else await new Promise((resolve) => setTimeout(resolve, when));
        await first.stop('SIGKILL');
        await client.close();

        second = await fakeClaudeDaemon({ varDir: first.varDir, env: { FAKE_CLAUDE_SLEEP_MS: '0' } }).start();
        const check = second.client();
        await eventually(async () => ((await check.sendSingle('completion:status', { request_id })) as { status: string }).status === 'completed');
        expect(fakeClisOf(first.varDir)).toEqual([]);
        expect(second.answered()).toEqual([expect.objectContaining({ stdin: prompt })]);
        await check.close();
      } finally {
        await second?.dispose();
        await first.dispose();
      }
    },
  );
});
