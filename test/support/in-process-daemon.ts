import type { INestMicroservice, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { EVENT_DEFINITIONS, systemReady, type EventDefinition } from '../../libs/client/src';
import { AppModule } from '../../src/app.module';
import type { Clock } from '../../src/common/clock';
import { loadConfig, type KsiConfig } from '../../src/config/config';
import { EventBus } from '../../src/events/event-bus';
import { EVENT_CONTRACT } from '../../src/events/event-catalogue';
import { NdjsonServer } from '../../src/transport/ndjson.server';
import { databaseEnv, dropDatabase } from './test-database';

export interface InProcessDaemon {
  app: INestMicroservice;
  config: KsiConfig;
  /** Runs the shutdown sequence (as SIGTERM would) and keeps the var dir. */
  stop(): Promise<void>;
  /** Stops and removes the var dir. */
  close(): Promise<void>;
}

/**
 * The real AppModule, transport and SQLite file, in the test's own process, with extra modules
 * (test-only handlers) added: for behaviour no shipped event exhibits on demand.
 */
export async function startInProcess(
  extraModules: Type[] = [],
  options: { env?: Record<string, string>; varDir?: string; clock?: Clock; definitions?: EventDefinition[] } = {},
): Promise<InProcessDaemon> {
  const varDir = options.varDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ksi-inproc-'));
  // The event log's writer thread runs compiled code only; the spawned-daemon suites cover it.
  const config = loadConfig({ KSI_VAR_DIR: varDir, KSI_EVENT_LOG: 'off', KSI_CHECK_RESULTS: 'on', ...(await databaseEnv(varDir)), ...options.env });
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config, pino({ level: 'silent' }), options.clock), ...extraModules] })
    .overrideProvider(EVENT_CONTRACT)
    .useValue([...EVENT_DEFINITIONS, ...(options.definitions ?? [])])
    .compile();
  const app = moduleRef.createNestMicroservice({ strategy: moduleRef.get(NdjsonServer) });
  await app.listen();
  app.get(EventBus).emit(systemReady, {});
  let stopped = false;
  const stop = async () => {
    if (!stopped) await app.close();
    stopped = true;
  };
  return {
    app,
    config,
    stop,
    close: async () => {
      await stop();
      // Retried: a Claude CLI the daemon started may still be writing into the var dir.
      fs.rmSync(varDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
      await dropDatabase(varDir);
    },
  };
}

/** A clock that moves only when the test says so. */
export class ManualClock implements Clock {
  constructor(private time = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.time;
  }

  advance(ms: number): void {
    this.time += ms;
  }
}
