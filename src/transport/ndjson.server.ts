import { Inject, Injectable } from '@nestjs/common';
import { Server, type CustomTransportStrategy } from '@nestjs/microservices';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { Logger } from 'pino';
import { KSI_CONFIG, type KsiConfig } from '../config/config';
import { ContractCheck } from '../events/contract-check';
import { Dispatcher } from '../events/dispatcher';
import { DAEMON_LOG } from '../logging/logger';
import { Connection } from './connection';
import { ConnectionRegistry } from './connection-registry';

export const NDJSON_TRANSPORT = Symbol('NDJSON');

/** How long close() lets connections finish the requests they already sent. */
const CLOSE_GRACE_MS = 5_000;

/** The Unix-socket NDJSON transport: a Nest microservice strategy that hands lines to the dispatcher. */
@Injectable()
export class NdjsonServer extends Server implements CustomTransportStrategy {
  override readonly transportId = NDJSON_TRANSPORT;
  private server?: net.Server;

  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    private readonly dispatcher: Dispatcher,
    private readonly connections: ConnectionRegistry,
    @Inject(DAEMON_LOG) private readonly log: Logger,
    private readonly contract: ContractCheck,
  ) {
    super();
  }

  listen(callback: (error?: unknown) => void): void {
    const socketPath = this.config.socketPath;
    try {
      fs.mkdirSync(path.dirname(socketPath), { recursive: true });
      fs.rmSync(socketPath, { force: true });
    } catch (error) {
      callback(error);
      return;
    }
    const limits = { maxLineBytes: this.config.maxLineBytes, maxOutputBytes: this.config.maxOutputBytes, partialLineTimeoutMs: this.config.partialLineTimeoutMs };
    const server = net.createServer({ allowHalfOpen: true }, (socket) => {
      this.connections.add(new Connection(socket, this.dispatcher, limits, this.log, this.contract));
    });
    server.once('error', (error) => callback(error));
    // The socket's file mode is the only gate to full rights: create it 0600 from the start.
    const umask = process.umask(0o177);
    try {
      server.listen(socketPath, () => {
        fs.chmodSync(socketPath, 0o600);
        this._status$.next('listening');
        callback();
      });
    } finally {
      process.umask(umask);
    }
    this.server = server;
  }

  /** Stops accepting, lets connections finish what they sent (new lines get `shutting_down`), then closes. */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this._status$.next('closing');
    this.dispatcher.draining = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const open = this.connections.all();
    const grace = new Promise<void>((resolve) => setTimeout(resolve, CLOSE_GRACE_MS).unref());
    await Promise.race([Promise.all(open.map((connection) => connection.whenIdle())), grace]);
    for (const connection of open) connection.end();
    const forced = setTimeout(() => open.forEach((connection) => connection.destroy()), 1_000).unref();
    await closed;
    clearTimeout(forced);
    this._status$.next('closed');
  }

  on(): never {
    throw new Error('The NDJSON transport has no server-level events');
  }

  unwrap<T>(): T {
    return this.server as T;
  }
}
