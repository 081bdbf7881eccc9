import * as fs from 'node:fs';
import * as path from 'node:path';

/** The lock file that makes one daemon per var dir (see lockVarDir); the CLI asks who holds it. */
export const varDirLockPath = (varDir: string): string => path.join(varDir, 'run', 'daemon.lock');

/**
 * The PID of the process holding a write lock on `file`, from the kernel's lock table (/proc/locks,
 * Linux); undefined when nobody holds one or the table cannot be read. The table is matched by inode
 * (on overlay file systems it names another device than stat() reports), so a candidate counts only
 * when it has `file` itself open: an inode number alone can belong to a file on another file system.
 */
export function lockHolder(file: string): number | undefined {
  let inode: number;
  let table: string;
  let target: string;
  try {
    inode = fs.statSync(file).ino;
    target = fs.realpathSync(file);
    table = fs.readFileSync('/proc/locks', 'utf8');
  } catch {
    return undefined;
  }
  // e.g. "1: POSIX  ADVISORY  WRITE 8501 fe:00:2149079 1073741824 1073742335" (waiters read "1: -> POSIX")
  for (const line of table.split('\n')) {
    const match = /^\d+: POSIX\s+ADVISORY\s+WRITE\s+(\d+)\s+[0-9a-f]+:[0-9a-f]+:(\d+)\s/.exec(line);
    if (match && Number(match[2]) === inode && hasOpen(Number(match[1]), target)) return Number(match[1]);
  }
  return undefined;
}

function hasOpen(pid: number, target: string): boolean {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === target;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}
