#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { defaultSocketPath } from '../../libs/client/src';
import { installRoot } from '../../src/config/install-root';
import { report } from './cli-error';
import { parseFastSend, runFastSend } from './fast-send';

/** Every command but a plain `ksi send`: nest-commander, which loads Nest and every command. */
async function runCommand(): Promise<void> {
  require('reflect-metadata');
  const { CommandFactory } = require('nest-commander') as typeof import('nest-commander');
  const { CliModule } = require('./cli.module') as typeof import('./cli.module');
  await CommandFactory.run(CliModule, {
    cliName: 'ksi',
    version: (JSON.parse(readFileSync(path.join(installRoot(), 'package.json'), 'utf8')) as { version: string }).version,
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

/**
 * Plain `ksi send` (what scripts call most) and plain `ksi mcp` (what every agent turn's Claude CLI
 * starts, from the MCP config the daemon writes) start without Nest, which takes most of a command's
 * start-up: they need only the client. Any other form goes through the full CLI.
 */
function runWithoutNest(argv: string[]): Promise<void> | undefined {
  const fastSend = parseFastSend(argv);
  if (fastSend) return runFastSend(fastSend);
  if (argv.length === 1 && argv[0] === 'mcp') return import('./mcp-bridge.js').then(({ runMcpBridge }) => runMcpBridge(path.resolve(defaultSocketPath())));
  return undefined;
}

(runWithoutNest(process.argv.slice(2)) ?? runCommand()).then(
  () => exitWhenFlushed(),
  (error: unknown) => exitWhenFlushed(report(error)),
);
