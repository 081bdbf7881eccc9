import { existsSync } from 'node:fs';
import * as path from 'node:path';

/**
 * The installation's root: the nearest folder above this file that holds package.json. It is found,
 * not fixed, because this file runs from src/ (tests), dist/src/ (tsc) and dist/bundle/ (rolldown).
 */
export function installRoot(from = __dirname): string {
  let dir = from;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) return from;
    dir = parent;
  }
  return dir;
}
