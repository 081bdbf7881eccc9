import 'reflect-metadata';
import { ModulesContainer, NestFactory } from '@nestjs/core';
import type { INestMicroservice } from '@nestjs/common';
import type { AsyncMicroserviceOptions } from '@nestjs/microservices';
import * as fs from 'node:fs';
import { AppModule } from './app.module';
import { loadConfig, type KsiConfig } from './config/config';
import { EventBus } from './events/event-bus';
import { PidFile } from './lifecycle/pid-file';
import { assertNotRunning } from './lifecycle/single-instance';
import { createDaemonLog, NestLogAdapter } from './logging/logger';
import { NdjsonServer } from './transport/ndjson.server';

export interface RunningDaemon {
  app: INestMicroservice;
  config: KsiConfig;
}

/** Boots the daemon in this process: validated config, the var tree, the Nest microservice on the socket. */
export async function startDaemon(env: NodeJS.ProcessEnv = process.env): Promise<RunningDaemon> {
  const config = loadConfig(env);
  await assertNotRunning(config);
  for (const dir of [config.varDir, config.logDir, config.responseLogDir, config.sandboxDir]) fs.mkdirSync(dir, { recursive: true });
  const log = createDaemonLog(config);
  // A stray promise in one module must not take the daemon and every client down with it.
  process.on('unhandledRejection', (reason) => log.error({ err: reason instanceof Error ? reason.stack : String(reason) }, 'unhandled rejection'));
  const app = await NestFactory.createMicroservice<AsyncMicroserviceOptions>(AppModule.forRoot(config, log), {
    logger: new NestLogAdapter(log),
    snapshot: config.devtoolsPort !== undefined,
    inject: [NdjsonServer],
    useFactory: (server: NdjsonServer) => ({ strategy: server }),
  });
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  // Nest ignores signals once shutdown runs; a second Ctrl-C means "now".
  let signals = 0;
  const forceOnSecond = (signal: NodeJS.Signals) => () => {
    if (++signals < 2) return;
    log.warn({ signal }, 'second signal during shutdown: exiting immediately');
    log.flush();
    process.exit(130);
  };
  process.on('SIGINT', forceOnSecond('SIGINT'));
  process.on('SIGTERM', forceOnSecond('SIGTERM'));
  await app.listen();
  if (config.devtoolsPort !== undefined) await devtoolsOnLoopback(app, config.devtoolsPort);
  app.get(PidFile).write();
  app.get(EventBus).emit('system:ready', {});
  log.info({ socket: config.socketPath, version: config.version }, 'daemon ready');
  return { app, config };
}

/**
 * Nest devtools' HTTP server listens on every interface and takes no host option; the daemon moves it
 * to 127.0.0.1, so the module graph (and its code runner) is never reachable from the network.
 */
async function devtoolsOnLoopback(app: INestMicroservice, port: number): Promise<void> {
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.providers.values()) {
      const server = (wrapper.instance as { httpServer?: import('node:http').Server } | undefined)?.httpServer;
      if (!server) continue;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
      return;
    }
  }
}
