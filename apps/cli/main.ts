#!/usr/bin/env node
import 'reflect-metadata';
import { CommandFactory } from 'nest-commander';
import { report } from './cli-error';
import { CliModule } from './cli.module';

async function main(): Promise<void> {
  await CommandFactory.run(CliModule, {
    cliName: 'ksi',
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
