import type { ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

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
 * Signals a CLI started in its own process group (its leader's pid is the group's id) and everything in
 * that group. Once the leader is reaped and its group empty, the kernel may give that pid to another
 * process that leads its own group (each PostgreSQL backend does): from then on only processes still
 * carrying this CLI's markers (`env`, see cliMarkers) are signalled, never the group id.
 */
export function signalCli(child: ChildProcess, signal: NodeJS.Signals, env: Record<string, string>, procDir = '/proc'): void {
  if (child.pid === undefined) return;
  if (child.exitCode === null && child.signalCode === null) return killGroup(child.pid, signal);
  const owner = env[CLI_OWNER_VARIABLE];
  if (owner === undefined) return;
  for (const pid of cliProcessesOf(owner, procDir, env[CLI_REQUEST_VARIABLE])) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Signals the process group `pid` leads; only for a pid known to be alive and ours. */
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
