import type { INestMicroservice, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import { AppModule } from '../../src/app.module';
import { loadConfig, type KsiConfig } from '../../src/config/config';
import { NdjsonServer } from '../../src/transport/ndjson.server';

export interface InProcessDaemon {
  app: INestMicroservice;
  config: KsiConfig;
  close(): Promise<void>;
}

/**
 * The real AppModule, transport and SQLite file, in the test's own process, with extra modules
 * (test-only handlers) added: for behaviour no shipped event exhibits on demand.
 */
export async function startInProcess(extraModules: Type[] = []): Promise<InProcessDaemon> {
  const varDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksi-inproc-'));
  const config = loadConfig({ KSI_VAR_DIR: varDir });
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config, pino({ level: 'silent' })), ...extraModules] }).compile();
  const app = moduleRef.createNestMicroservice({ strategy: moduleRef.get(NdjsonServer) });
  await app.listen();
  return {
    app,
    config,
    close: async () => {
      await app.close();
      fs.rmSync(varDir, { recursive: true, force: true });
    },
  };
}
