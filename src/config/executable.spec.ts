import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { executableStatus, resolveExecutable } from './executable';

describe('resolveExecutable and executableStatus', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksi-exe-'));
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.writeFileSync(path.join(dir, 'bin', 'tool'), '#!/bin/sh\n', { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'plain'), 'not a program', { mode: 0o644 });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('resolves a relative path against the working directory', () => {
    expect(resolveExecutable('bin/tool', '', dir)).toBe(path.join(dir, 'bin', 'tool'));
    expect(resolveExecutable('./bin/../bin/tool', '', dir)).toBe(path.join(dir, 'bin', 'tool'));
  });

  it('looks a bare name up on the search path, skipping folders without it', () => {
    expect(resolveExecutable('tool', ['/nonexistent', path.join(dir, 'bin')].join(path.delimiter), '/')).toBe(path.join(dir, 'bin', 'tool'));
  });

  it('keeps a bare name found nowhere, or found only as a file that cannot run', () => {
    expect(resolveExecutable('tool', '/nonexistent', dir)).toBe('tool');
    expect(resolveExecutable('plain', dir, '/')).toBe('plain');
  });

  it('tells missing, not executable and ok apart', () => {
    expect(executableStatus(path.join(dir, 'bin', 'tool'))).toBe('ok');
    expect(executableStatus(path.join(dir, 'plain'))).toBe('not_executable');
    expect(executableStatus(path.join(dir, 'bin'))).toBe('not_executable');
    expect(executableStatus(path.join(dir, 'nothing'))).toBe('missing');
  });
});
