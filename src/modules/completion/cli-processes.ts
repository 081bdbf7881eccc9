import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';

/**
 * Every Claude CLI a daemon starts carries its var dir in this variable. The environment is fixed at
 * exec, so a process is findable from its first instruction: no crash of the daemon leaves one unfound.
 */
export const CLI_OWNER_VARIABLE = 'KSI_CLI_OWNER';
/** The request a CLI process runs, for operators reading `ps e`. */
export const CLI_REQUEST_VARIABLE = 'KSI_REQUEST_ID';

/** The marker variables for a CLI run for `requestId` by the daemon of `varDir`. */
export function cliMarkers(varDir: string, requestId: string): Record<string, string> {
  return { [CLI_OWNER_VARIABLE]: varDir, [CLI_REQUEST_VARIABLE]: requestId };
}

/**
 * Live processes whose environment marks them as CLIs (or their descendants) of the daemon of
 * `varDir`, of one request when `requestId` is given. Processes of other users are unreadable and
 * never match, nor does this process.
 */
export function cliProcessesOf(varDir: string, procDir = '/proc', requestId?: string): number[] {
  const entries = [`${CLI_OWNER_VARIABLE}=${varDir}`, ...(requestId === undefined ? [] : [`${CLI_REQUEST_VARIABLE}=${requestId}`])];
  return readdirSync(procDir)
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      if (pid === process.pid) return false;
      const environ = readEnviron(procDir, pid);
      return entries.every((entry) => environ.includes(entry));
    });
}

/**
 * Kills every CLI process of the daemon of `varDir` (of one request when `requestId` is given), and
 * the process group each leads (the CLI runs in its own group, so this also stops helpers that
 * dropped the marker). Returns the pids found.
 */
export function killCliProcessesOf(varDir: string, procDir = '/proc', requestId?: string): number[] {
  const found = cliProcessesOf(varDir, procDir, requestId);
  for (const pid of found) {
    killGroup(pid, 'SIGKILL');
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return found;
}

/**
 * Signals a CLI started in its own process group (its leader's pid is the group's id) and everything
 * left in that group. While a group has a member the kernel gives its id to no other process; once the
 * leader is reaped and the group empty, it may give that pid to another process, which may lead a
 * group of its own (each PostgreSQL backend does). So after the reap the group is not signalled once a
 * process has the leader's pid. That narrows the risk without closing it (the new process may have
 * left a group behind and exited): callers signal a reaped CLI only while its group was alive when
 * it was reaped.
 */
export function signalCli(child: ChildProcess, signal: NodeJS.Signals, procDir = '/proc'): void {
  if (child.pid === undefined) return;
  const reaped = child.exitCode !== null || child.signalCode !== null;
  if (reaped && existsSync(`${procDir}/${child.pid}`)) return;
  killGroup(child.pid, signal);
}

/** Whether any process is left in the group `pid` leads or led. */
export function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Signals the process group `pid` leads; only for a group known to be ours. */
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function readEnviron(procDir: string, pid: number): string[] {
  try {
    return readFileSync(`${procDir}/${pid}/environ`, 'utf8').split('\0');
  } catch {
    return [];
  }
}
