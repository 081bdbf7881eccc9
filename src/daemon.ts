import 'reflect-metadata';
import { ModulesContainer, NestFactory } from '@nestjs/core';
import type { INestMicroservice } from '@nestjs/common';
import type { AsyncMicroserviceOptions } from '@nestjs/microservices';
import * as fs from 'node:fs';
import * as path from 'node:path';
import pino from 'pino';
import { systemReady } from '../libs/client/src';
import { AppModule } from './app.module';
import { loadConfig, type KsiConfig } from './config/config';
import { postgresLocation } from './database/postgres-connection';
import { EventBus } from './events/event-bus';
import { daemonSettingsPath, recordDaemonSettings } from './lifecycle/daemon-settings';
import { PidFile } from './lifecycle/pid-file';
import { restrictVarDir } from './lifecycle/private-var-dir';
import { varDirLockPath } from './lifecycle/lock-holder';
import { assertSocketFree, lockVarDir } from './lifecycle/single-instance';
import { postgresStartupFailure, startupFailure } from './lifecycle/startup-failure';
import { createDaemonLog, NestLogAdapter } from './logging/logger';
import { killCliProcessesOf } from './modules/completion/cli-processes';
import { NdjsonServer } from './transport/ndjson.server';

export interface RunningDaemon {
  app: INestMicroservice;
  config: KsiConfig;
}

/**
 * Boots the daemon in this process: validated config, the var dir (locked, private), the Nest
 * microservice on the socket. A failure rejects with a StartupError: one line naming cause and path.
 */
export async function startDaemon(env: NodeJS.ProcessEnv = process.env): Promise<RunningDaemon> {
  const config = loadConfig(env);
  // Prompts, state and agents' work are the operator's alone: everything created from here on is 0600/0700.
  process.umask(0o077);
  await prepareVarDir(config, env);
  const log = createDaemonLog(config);
  // A log that cannot be written (full disk) loses lines; it must not take the daemon down.
  (log as unknown as Record<symbol, NodeJS.EventEmitter>)[pino.symbols.streamSym].on('error', () => undefined);
  // A stray promise in one module must not take the daemon and every client down with it.
  process.on('unhandledRejection', (reason) => log.error({ err: reason instanceof Error ? reason.stack : String(reason) }, 'unhandled rejection'));
  let app: INestMicroservice;
  try {
    app = await NestFactory.createMicroservice<AsyncMicroserviceOptions>(AppModule.forRoot(config, log), {
      logger: new NestLogAdapter(log),
      snapshot: config.devtoolsPort !== undefined,
      // Nest's default aborts the process (SIGABRT, a native stack) on an init error: reject instead.
      abortOnError: false,
      inject: [NdjsonServer],
      useFactory: (server: NdjsonServer) => ({ strategy: server }),
    });
  } catch (error) {
    throw config.databaseUrl ? postgresStartupFailure(error, postgresLocation(config.databaseUrl)) : startupFailure(error, config.dbPath);
  }
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
  try {
    await app.listen();
  } catch (error) {
    throw startupFailure(error, config.socketPath);
  }
  if (config.devtoolsPort !== undefined) await devtoolsOnLoopback(app, config.devtoolsPort);
  app.get(PidFile).write();
  app.get(EventBus).emit(systemReady, {});
  log.info({ socket: config.socketPath, version: config.version }, 'daemon ready');
  return { app, config };
}

/**
 * Before anything else touches the var dir, takes its lock (one daemon per var dir), then checks the
 * socket path, makes the tree private and records the settings `ksi daemon restart` reuses.
 */
async function prepareVarDir(config: KsiConfig, env: NodeJS.ProcessEnv): Promise<void> {
  const runDir = path.dirname(varDirLockPath(config.varDir));
  try {
    fs.mkdirSync(runDir, { recursive: true });
  } catch (error) {
    throw startupFailure(error, runDir);
  }
  let lock: ReturnType<typeof lockVarDir>;
  try {
    lock = lockVarDir(config.varDir);
  } catch (error) {
    throw startupFailure(error, varDirLockPath(config.varDir));
  }
  // Once the var dir is this daemon's, and before its lock is released: a daemon that exits without
  // its shutdown (its node id taken by another, a fatal error), or whose shutdown timed out before the
  // SIGKILL that follows a stopped CLI's SIGTERM, leaves no CLI running beside the request's retry.
  process.once('exit', () => killCliProcessesOf(config.varDir));
  // Referenced until exit: a collected handle would close and release the lock.
  process.once('exit', () => lock.close());
  await assertSocketFree(config);
  try {
    restrictVarDir(config);
    for (const dir of [config.logDir, config.responseLogDir, config.sandboxDir]) fs.mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw startupFailure(error, config.varDir);
  }
  try {
    recordDaemonSettings(config.varDir, env);
  } catch (error) {
    throw startupFailure(error, daemonSettingsPath(config.varDir));
  }
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
