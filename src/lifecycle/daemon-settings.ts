import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONFIG_VARIABLES } from '../config/config';

/**
 * What a daemon was started with, so `ksi daemon restart` from another shell starts the same daemon:
 * its working directory (relative paths resolve against it) and the variables its configuration reads.
 */
export interface DaemonSettings {
  pid: number;
  cwd: string;
  env: Record<string, string>;
}

export const daemonSettingsPath = (varDir: string): string => path.join(varDir, 'run', 'daemon.settings.json');

/** The variables that configure a daemon, sorted by name. */
export function daemonVariables(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env)
      .filter((entry): entry is [string, string] => entry[1] !== undefined && CONFIG_VARIABLES.includes(entry[0]))
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

/**
 * Written by the daemon at start, 0600 (restrictVarDir takes back an older file's mode first): it
 * holds KSI_DATABASE_URL with its password, which a restart from a shell without the URL needs to
 * connect at all. A password in PGPASSWORD instead is not recorded.
 */
export function recordDaemonSettings(varDir: string, env: NodeJS.ProcessEnv): void {
  const settings: DaemonSettings = { pid: process.pid, cwd: process.cwd(), env: daemonVariables(env) };
  fs.writeFileSync(daemonSettingsPath(varDir), `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
}

/** The settings the last daemon on this var dir recorded (running or not), if one did. */
export function lastDaemonSettings(varDir: string): DaemonSettings | undefined {
  try {
    return JSON.parse(fs.readFileSync(daemonSettingsPath(varDir), 'utf8')) as DaemonSettings;
  } catch {
    return undefined;
  }
}

/** The settings the daemon with this PID recorded, if it did. */
export function readDaemonSettings(varDir: string, pid: number): DaemonSettings | undefined {
  const settings = lastDaemonSettings(varDir);
  return settings?.pid === pid ? settings : undefined;
}

/** Names of the daemon variables whose value in `env` differs from the recorded one (set, unset or changed). */
export function differingVariables(recorded: Record<string, string>, env: NodeJS.ProcessEnv): string[] {
  const current = daemonVariables(env);
  return [...new Set([...Object.keys(recorded), ...Object.keys(current)])].filter((name) => recorded[name] !== current[name]).sort();
}
