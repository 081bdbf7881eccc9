import { accessSync, constants, statSync } from 'node:fs';
import * as path from 'node:path';

export type ExecutableStatus = 'ok' | 'missing' | 'not_executable';

/**
 * An absolute path for a command, fixed at start so that processes run in other directories (agents
 * in their sandboxes) find the same program: a name with a `/` is resolved against `cwd`, a bare name
 * is looked up on `searchPath` like a shell would. A bare name found nowhere is returned unchanged.
 */
export function resolveExecutable(command: string, searchPath: string, cwd: string): string {
  if (command.includes('/')) return path.resolve(cwd, command);
  for (const dir of searchPath.split(path.delimiter).filter(Boolean)) {
    const candidate = path.resolve(cwd, dir, command);
    if (executableStatus(candidate) === 'ok') return candidate;
  }
  return command;
}

export function executableStatus(file: string): ExecutableStatus {
  try {
    if (!statSync(file).isFile()) return 'not_executable';
  } catch {
    return 'missing';
  }
  try {
    accessSync(file, constants.X_OK);
    return 'ok';
  } catch {
    return 'not_executable';
  }
}
