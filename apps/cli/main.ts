#!/usr/bin/env node
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CommandFactory } from 'nest-commander';
import { report } from './cli-error';
import { CliModule } from './cli.module';

async function main(): Promise<void> {
  await CommandFactory.run(CliModule, {
    cliName: 'ksi',
    version: (JSON.parse(readFileSync(path.resolve(__dirname, '../../../package.json'), 'utf8')) as { version: string }).version,
    logger: false,
    serviceErrorHandler: (error: Error) => {
      process.exitCode = report(error);
    },
  });
}

/**
 * Exits once stdout is written out: a pipe takes 64 KiB at a time, and exiting at once cut a longer
 * output there (`ksi send system:discover | jq` got a truncated document).
 */
function exitWhenFlushed(code?: number): void {
  if (code !== undefined) process.exitCode = code;
  // process.exit() with no argument: it keeps the exit code a command set (process.exit(undefined) is 0).
  process.stdout.write('', () => process.exit());
}

main().then(
  () => exitWhenFlushed(),
  (error: unknown) => exitWhenFlushed(report(error)),
);
