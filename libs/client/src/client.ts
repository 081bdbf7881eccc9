import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import * as path from 'node:path';
import picomatch from 'picomatch';
import { KsiConnectionError, KsiEventError, KsiIdentityError, KsiTimeoutError } from './errors';
import type { KsiEventName, KsiPushMap, KsiPushName, ParamsOf, ResultOf } from './contract';
import { LINE_TOO_LONG, LineSplitter, type Frame } from './framing';
import { isErrorResult, type ErrorResult, type KsiErrorReply, type KsiPush, type KsiReply } from './protocol';

export interface KsiClientOptions {
  /** Defaults to `KSI_SOCKET_PATH`, else `$KSI_VAR_DIR/run/daemon.sock`, else `var/run/daemon.sock`. */
  socketPath?: string;
  /** Per-request timeout; 0 waits forever. Default 30 s. */
  timeoutMs?: number;
  /** What this client's correlation ids start with (`<prefix>-1`, `<prefix>-2`, …), to tell its requests apart in the event log; default random. */
  correlationPrefix?: string;
}

export type ErrorMode = 'fail_fast' | 'collect' | 'warn';
export type PushHandler = (line: KsiPush) => void;
/** A pushed line of a defined push event, `data` typed by its definition; over several names, `event` tells them apart. */
export type PushOf<E extends KsiPushName> = { [K in E]: KsiPush<KsiPushMap[K], K> }[E];

/** `sendWithErrors` in `collect` mode: the results and the error results apart. */
export interface CollectedResults<R> {
  results: R[];
  errors: ErrorResult[];
  has_errors: boolean;
}

/** A defined event's data: required when its parameters have a required field. */
type DataArg<E extends KsiEventName> = {} extends ParamsOf<E> ? [data?: ParamsOf<E>] : [data: ParamsOf<E>];
/** A name the contract does not define: only these reach the untyped overloads, so wrong data for a defined event does not compile. */
type UndefinedEvent<N extends string> = N extends KsiEventName ? never : N;

interface Pending {
  event: string;
  /** The connection the request went out on: only its closing fails the request. */
  socket: net.Socket;
  resolve: (reply: KsiReply | KsiErrorReply) => void;
  reject: (error: Error) => void;
  timer?: NodeJS.Timeout;
}

type Data = Record<string, unknown>;
type AnyResult = Record<string, unknown>;

export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.KSI_SOCKET_PATH || path.join(env.KSI_VAR_DIR || 'var', 'run', 'daemon.sock');
}

/** How long close() waits for the daemon to close its end of the connection. */
const CLOSE_GRACE_MS = 1_000;

/** Ends `socket`; resolves once it is closed, or after CLOSE_GRACE_MS with it cut off (a frozen daemon never closes its end). */
function ended(socket: net.Socket): Promise<void> {
  if (socket.closed) return Promise.resolve();
  return new Promise((resolve) => {
    const drop = setTimeout(() => {
      socket.destroy();
      resolve();
    }, CLOSE_GRACE_MS);
    socket.once('close', () => {
      clearTimeout(drop);
      resolve();
    });
    socket.end();
  });
}

/**
 * A promise-based NDJSON client for the KSI daemon, usable from any Node program. Results are typed by
 * the event's definition; an application error (`{error, code}`, see isErrorResult) can come back in a
 * result's place, as the wire puts it there.
 */
export class KsiClient {
  readonly socketPath: string;
  readonly timeoutMs: number;
  private socket?: net.Socket;
  /** The open under way, and the close() count it began after: a later close() ends it. */
  private connecting?: { closes: number; done: Promise<void> };
  /** A connection dialled and identifying again, not yet the client's. */
  private opening?: net.Socket;
  /** Connections that were the client's: their closing is told to onClose's listeners. */
  private readonly adopted = new WeakSet<net.Socket>();
  private readonly pending = new Map<string, Pending>();
  private readonly subscribers = new Set<{ matches: (event: string) => boolean; handler: PushHandler }>();
  private readonly closeListeners = new Set<() => void>();
  readonly correlationPrefix: string;
  private sequence = 0;
  /** Set by a successful system:identify: every later connection identifies with it before anything else is sent. */
  private identity?: { agentId: string; token: string };
  /** The daemon refused `identity` on a reconnect: every call fails with this from then on. */
  private identityLost?: KsiIdentityError;
  /** Counts close() calls: a connection that was being opened when one came is closed, not kept. */
  private closes = 0;

  constructor(options: KsiClientOptions = {}) {
    this.socketPath = options.socketPath ?? defaultSocketPath();
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.correlationPrefix = options.correlationPrefix ?? randomBytes(4).toString('hex');
  }

  get connected(): boolean {
    return this.socket !== undefined && !this.socket.destroyed;
  }

  /** The agent this client identified as (system:identify), or undefined while it acts as the operator. */
  get agentId(): string | undefined {
    return this.identity?.agentId;
  }

  /**
   * Connects unless connected. A client that identified identifies again, with the same agent and token,
   * before anything else goes through the new connection; refused, it rejects with KsiIdentityError.
   */
  connect(): Promise<void> {
    if (this.identityLost) return Promise.reject(this.identityLost);
    if (this.connected) return Promise.resolve();
    if (this.connecting?.closes !== this.closes) {
      const attempt = {
        closes: this.closes,
        done: this.open(this.closes).finally(() => {
          if (this.connecting === attempt) this.connecting = undefined;
        }),
      };
      this.connecting = attempt;
    }
    return this.connecting.done;
  }

  /** Opens a connection for the client, unless close() is called before it is done (`closes`: the count of them when it began). */
  private async open(closes: number): Promise<void> {
    const socket = await this.dial();
    const unlessClosed = () => {
      if (this.closes === closes) return;
      socket.destroy();
      throw new KsiConnectionError('Client closed', this.socketPath);
    };
    unlessClosed();
    const identity = this.identity;
    if (identity) {
      this.opening = socket;
      try {
        await this.identifyAgain(socket, identity);
      } catch (error) {
        socket.destroy();
        unlessClosed();
        throw error;
      } finally {
        if (this.opening === socket) this.opening = undefined;
      }
    }
    unlessClosed();
    if (socket.destroyed) throw new KsiConnectionError(`Connection to the KSI daemon at ${this.socketPath} was closed`, this.socketPath);
    this.socket = socket;
    this.adopted.add(socket);
  }

  private async identifyAgain(socket: net.Socket, { agentId, token }: { agentId: string; token: string }): Promise<void> {
    const reply = await this.exchange(socket, 'system:identify', { agent_id: agentId, token }, this.timeoutMs);
    const refusal = 'error' in reply ? reply : isErrorResult(reply.data) ? reply.data : undefined;
    if (!refusal) return;
    if (refusal.code === 'permission_denied') throw (this.identityLost = new KsiIdentityError(agentId, refusal.error, this.socketPath));
    // Anything else (the daemon shutting down, its storage away) says nothing about the token: the next call tries again.
    throw new KsiEventError('system:identify', refusal.code, `Could not identify again as agent ${agentId} after reconnecting: ${refusal.error}`, reply);
  }

  private dial(): Promise<net.Socket> {
    return new Promise<net.Socket>((resolve, reject) => {
      const socket = net.createConnection(this.socketPath);
      const splitter = new LineSplitter();
      const frames: Frame[] = [];
      socket.once('connect', () => resolve(socket));
      // No encoding is set, so a chunk is a Buffer; newer @types/node type it `string | Buffer`.
      socket.on('data', (chunk: Buffer | string) => {
        splitter.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk), frames);
        for (const frame of frames.splice(0)) if (frame !== LINE_TOO_LONG) this.onLine(frame);
      });
      // After 'connect' the promise is settled and this does nothing: 'close' follows and fails what waits.
      socket.once('error', (error: NodeJS.ErrnoException) => reject(unreachable(this.socketPath, error)));
      socket.once('close', () => {
        if (this.socket === socket) this.socket = undefined;
        this.failPending(socket, new KsiConnectionError(`Connection to the KSI daemon at ${this.socketPath} was closed`, this.socketPath));
        if (this.adopted.has(socket)) for (const listener of this.closeListeners) listener();
      });
    });
  }

  /** Ends the connection, and one being opened (connect, or a call reconnecting): the next call connects again. */
  async close(): Promise<void> {
    this.closes++;
    // Its identify fails at once: a daemon that does not answer would hold close() for the whole timeout.
    this.opening?.destroy();
    const connecting = this.connecting?.done;
    const socket = this.socket;
    this.socket = undefined;
    if (socket) this.failPending(socket, new KsiConnectionError('Client closed', this.socketPath));
    await Promise.all([socket && ended(socket), connecting?.catch(() => undefined)]);
  }

  /** Sends one request and resolves with the whole reply line (request-level errors included). */
  async request(event: string, data: Data = {}, timeoutMs = this.timeoutMs): Promise<KsiReply | KsiErrorReply> {
    await this.connect();
    const socket = this.socket;
    if (!socket) throw new KsiConnectionError(`Not connected to the KSI daemon at ${this.socketPath}`, this.socketPath);
    const reply = await this.exchange(socket, event, data, timeoutMs);
    if (event === 'system:identify' && !('error' in reply) && isPlainObject(reply.data) && reply.data.identified === true && typeof data.token === 'string') {
      this.identity = { agentId: String(reply.data.agent_id), token: data.token };
    }
    return reply;
  }

  private exchange(socket: net.Socket, event: string, data: Data, timeoutMs: number): Promise<KsiReply | KsiErrorReply> {
    const correlationId = `${this.correlationPrefix}-${++this.sequence}`;
    return new Promise((resolve, reject) => {
      const entry: Pending = { event, socket, resolve, reject };
      if (timeoutMs > 0) {
        entry.timer = setTimeout(() => {
          this.pending.delete(correlationId);
          reject(new KsiTimeoutError(event, timeoutMs));
        }, timeoutMs);
      }
      this.pending.set(correlationId, entry);
      socket.write(`${JSON.stringify({ event, data, correlation_id: correlationId })}\n`);
    });
  }

  /** Resolves with `data` exactly as the daemon sent it; a request-level error rejects with KsiEventError. */
  sendEvent<E extends KsiEventName>(event: E, ...data: DataArg<E>): Promise<ResultOf<E> | ResultOf<E>[]>;
  sendEvent<N extends string>(event: UndefinedEvent<N>, data?: Data): Promise<unknown>;
  sendEvent(event: string, data: Data = {}): Promise<unknown> {
    return this.replyData(event, data);
  }

  /** Exactly one result; none or several reject. */
  sendSingle<E extends KsiEventName>(event: E, ...data: DataArg<E>): Promise<ResultOf<E>>;
  sendSingle<N extends string>(event: UndefinedEvent<N>, data?: Data): Promise<AnyResult>;
  sendSingle(event: string, data: Data = {}): Promise<AnyResult> {
    return this.single(event, data);
  }

  /** Always a list of results. */
  sendAll<E extends KsiEventName>(event: E, ...data: DataArg<E>): Promise<ResultOf<E>[]>;
  sendAll<N extends string>(event: UndefinedEvent<N>, data?: Data): Promise<AnyResult[]>;
  sendAll(event: string, data: Data = {}): Promise<AnyResult[]> {
    return this.results(event, data);
  }

  /** The first result, or undefined when no handler answered. */
  sendFirst<E extends KsiEventName>(event: E, ...data: DataArg<E>): Promise<ResultOf<E> | undefined>;
  sendFirst<N extends string>(event: UndefinedEvent<N>, data?: Data): Promise<AnyResult | undefined>;
  async sendFirst(event: string, data: Data = {}): Promise<AnyResult | undefined> {
    return (await this.results(event, data))[0];
  }

  /** One field (default `value`) of the single result; `defaultValue` when it is absent, null, or the request failed. */
  getValue<E extends KsiEventName, K extends keyof ResultOf<E> & string = 'value' & keyof ResultOf<E>>(
    event: E,
    data: ParamsOf<E>,
    key?: K,
    defaultValue?: ResultOf<E>[K],
  ): Promise<ResultOf<E>[K] | undefined>;
  getValue<T = unknown, N extends string = string>(event: UndefinedEvent<N>, data?: Data, key?: string, defaultValue?: T): Promise<T | undefined>;
  async getValue(event: string, data: Data = {}, key = 'value', defaultValue?: unknown): Promise<unknown> {
    try {
      const value = (await this.single(event, data))[key];
      return value === undefined || value === null ? defaultValue : value;
    } catch (error) {
      if (error instanceof KsiEventError) return defaultValue;
      throw error;
    }
  }

  /** Merges several handlers' results into one object (objects under `mergeKey` merged, lists joined); `{}` when none answered. */
  sendAndMerge<E extends KsiEventName>(event: E, data: ParamsOf<E>, mergeKey?: keyof ResultOf<E> & string): Promise<Partial<ResultOf<E>>>;
  sendAndMerge<N extends string>(event: UndefinedEvent<N>, data?: Data, mergeKey?: string): Promise<AnyResult>;
  async sendAndMerge(event: string, data: Data = {}, mergeKey?: string): Promise<AnyResult> {
    const [first = {}, ...rest] = await this.results(event, data);
    const merged: AnyResult = { ...first };
    for (const next of rest) {
      const mine = mergeKey ? merged[mergeKey] : undefined;
      const theirs = mergeKey ? next[mergeKey] : undefined;
      if (mergeKey && Array.isArray(mine) && Array.isArray(theirs)) merged[mergeKey] = [...mine, ...theirs];
      else if (mergeKey && isPlainObject(mine) && isPlainObject(theirs)) merged[mergeKey] = { ...mine, ...theirs };
      else Object.assign(merged, next);
    }
    return merged;
  }

  /** The results that are not error results. */
  sendSuccessOnly<E extends KsiEventName>(event: E, ...data: DataArg<E>): Promise<ResultOf<E>[]>;
  sendSuccessOnly<N extends string>(event: UndefinedEvent<N>, data?: Data): Promise<AnyResult[]>;
  async sendSuccessOnly(event: string, data: Data = {}): Promise<AnyResult[]> {
    return (await this.results(event, data)).filter((result) => !isErrorResult(result));
  }

  /** `collect` returns results and error results apart; `fail_fast` rejects on the first error result; `warn` emits a process warning for each and returns the rest. */
  sendWithErrors<E extends KsiEventName>(event: E, data: ParamsOf<E>, mode: 'collect'): Promise<CollectedResults<ResultOf<E>>>;
  sendWithErrors<E extends KsiEventName>(event: E, data: ParamsOf<E>, mode?: 'fail_fast' | 'warn'): Promise<ResultOf<E>[]>;
  sendWithErrors<N extends string>(event: UndefinedEvent<N>, data: Data, mode: 'collect'): Promise<CollectedResults<AnyResult>>;
  sendWithErrors<N extends string>(event: UndefinedEvent<N>, data?: Data, mode?: 'fail_fast' | 'warn'): Promise<AnyResult[]>;
  async sendWithErrors(event: string, data: Data = {}, mode: ErrorMode = 'fail_fast'): Promise<unknown> {
    const all = await this.results(event, data);
    const errors = all.filter(isErrorResult);
    const results = all.filter((result) => !isErrorResult(result));
    if (mode === 'collect') return { results, errors, has_errors: errors.length > 0 };
    if (errors.length > 0 && mode === 'fail_fast') throw new KsiEventError(event, String(errors[0].code ?? 'error'), errors[0].error, errors[0]);
    for (const error of errors) process.emitWarning(`${event}: ${error.error}`);
    return results;
  }

  /** Runs when the connection closes, whoever closed it. Returns the function that removes the listener. */
  onClose(listener: () => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /**
   * Receives pushed lines: of one push event, `data` typed by its definition; or of every event the glob
   * matches (`completion:*`, `**`), `data` untyped. Returns the unsubscribe function.
   */
  subscribe<E extends KsiPushName>(event: E, handler: (line: PushOf<E>) => void): () => void;
  subscribe(pattern: string, handler: PushHandler): () => void;
  subscribe(pattern: string, handler: PushHandler): () => void {
    const subscriber = { matches: picomatch(pattern), handler };
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  private async replyData(event: string, data: Data): Promise<unknown> {
    const reply = await this.request(event, data);
    if ('error' in reply) throw new KsiEventError(event, reply.code, reply.error, reply);
    return reply.data;
  }

  /** Every result of a request (the REST rule undone: one result, a list, or none). */
  private async results(event: string, data: Data): Promise<AnyResult[]> {
    const payload = await this.replyData(event, data);
    if (payload === null || payload === undefined) return [];
    return (Array.isArray(payload) ? payload : [payload]) as AnyResult[];
  }

  private async single(event: string, data: Data): Promise<AnyResult> {
    const results = await this.results(event, data);
    if (results.length === 0) throw new KsiEventError(event, 'no_response', `No handler answered ${event}`);
    if (results.length > 1) throw new KsiEventError(event, 'multiple_responses', `Expected one response to ${event}, got ${results.length}`);
    return results[0];
  }

  private onLine(line: string): void {
    let message: (KsiReply | KsiErrorReply | KsiPush) & { correlation_id?: unknown };
    try {
      message = JSON.parse(line);
    } catch {
      return;
    }
    if (typeof message !== 'object' || message === null) return;
    const id = message.correlation_id;
    const pending = typeof id === 'string' ? this.pending.get(id) : undefined;
    if (pending && !('push' in message)) {
      this.pending.delete(id as string);
      clearTimeout(pending.timer);
      pending.resolve(message as KsiReply | KsiErrorReply);
      return;
    }
    if ('push' in message && typeof message.event === 'string') {
      for (const subscriber of this.subscribers) if (subscriber.matches(message.event)) subscriber.handler(message);
    }
  }

  private failPending(socket: net.Socket, error: Error): void {
    for (const [id, pending] of this.pending) {
      if (pending.socket !== socket) continue;
      this.pending.delete(id);
      clearTimeout(pending.timer);
      pending.reject(error);
    }
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unreachable(socketPath: string, error: NodeJS.ErrnoException): KsiConnectionError {
  const why = error.code === 'ENOENT' ? 'no socket file' : error.code === 'ECONNREFUSED' ? 'nothing is listening' : error.message;
  return new KsiConnectionError(
    `Cannot reach the KSI daemon at ${socketPath} (${why}). Start it with \`npx ksi daemon start\` or \`npm start\`.`,
    socketPath,
  );
}

