import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-C', cwd, ...args], { encoding: 'utf8' }).trim();

/** A repository with one commit, outside any other. */
export function gitRepository(): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'ksi-repo-')));
  git(dir, 'init', '--quiet');
  fs.writeFileSync(path.join(dir, 'README.md'), 'the project\n');
  git(dir, 'add', 'README.md');
  git(dir, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '--quiet', '-m', 'start');
  return dir;
}
