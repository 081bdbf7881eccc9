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

main().then(
  () => process.exit(),
  (error: unknown) => process.exit(report(error)),
);
