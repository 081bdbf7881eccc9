import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import {
  budgetExhausted,
  completionCancelled,
  completionError,
  completionFailed,
  completionProgress,
  completionResult,
  failureCode,
  type PayloadOf,
} from '../../../libs/client/src';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { Storage } from '../../database/storage';
import { EventBus } from '../../events/event-bus';
import { DAEMON_LOG } from '../../logging/logger';
import { CompletionRepository } from './completion.repository';
import { LiveRequests } from './live-requests';
import { type Relay, type RequestPush, signalsOf } from './relay-signals';

/** The pushes a node relays to the node that accepted the request. */
const RELAYED: RequestPush[] = [completionProgress, completionResult, completionError, completionCancelled, budgetExhausted];
/** The channel a node hears its relayed pushes on: PostgreSQL takes names of up to 63 bytes. */
const pushChannelOf = (nodeId: string): string => `ksi_push_${createHash('sha256').update(nodeId).digest('hex').slice(0, 32)}`;

/** Signals queued for the database at most, before progress pushes are dropped (ends are always queued). */
const MAX_RELAYS_WAITING = 1_000;

/**
 * What a request's progress and end tell: pushed to the connection that sent it, and raised inside
 * the daemon (monitors, agents). Both live on the node that accepted the request: a node running a
 * request another accepted relays them there, in order, through the database's signals.
 */
@Injectable()
export class CompletionNotifier implements OnModuleInit, OnApplicationShutdown {
  private readonly me: string;
  /** Other nodes may run this node's requests. */
  private readonly clustered: boolean;
  /** Relays go out one after another, so they arrive in the order they were raised. */
  private relays: Promise<void> = Promise.resolve();
  private relaysWaiting = 0;
  private progressDropped = 0;
  private catchUpTimer?: NodeJS.Timeout;
  private catchingUp = false;
  private catchUpAgain = false;
  private readonly ttlMs: number;

  constructor(
    @Inject(KSI_CONFIG) config: KsiConfig,
    @Inject(DAEMON_LOG) private readonly log: Logger,
    private readonly live: LiveRequests,
    private readonly bus: EventBus,
    private readonly storage: Storage,
    private readonly repo: CompletionRepository,
  ) {
    this.me = config.node.id;
    this.clustered = config.node.clustered;
    this.ttlMs = config.node.leaseTtlMs;
  }

  onModuleInit(): void {
    if (!this.clustered) return;
    this.storage.onSignal(pushChannelOf(this.me), (payload) => void this.received(payload));
    this.storage.onSignalsMissed(() => this.catchUp());
    // The backstop for relays that never came (a NOTIFY that failed, a node that died after running the request).
    this.catchUpTimer = setInterval(() => this.catchUp(), this.ttlMs / 3).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.catchUpTimer);
  }

  /**
   * `final`: the request's last push; nothing more goes to its connection. `acceptedBy`: the node that
   * accepted the request, when it does not run here.
   */
  notify<D extends RequestPush>(definition: D, payload: PayloadOf<D>, final = false, acceptedBy = this.live.acceptorOf(payload.request_id)): void {
    if (!acceptedBy || acceptedBy === this.me || !this.clustered) return this.deliver(definition, payload, final);
    if (!final) return this.relay(acceptedBy, definition, payload, final);
    // The request's agent may have moved to another node since the attempt started (see completion:adopt_agent): its end goes where the row says now.
    this.relays = this.relays
      .then(async () => {
        const current = (await this.repo.byId(payload.request_id))?.acceptedBy ?? acceptedBy;
        if (current === this.me) this.deliver(definition, payload, final);
        else this.relay(current, definition, payload, final);
      })
      .catch((error: Error) => this.log.warn({ request_id: payload.request_id, err: error.message }, `${definition.name} not relayed to the node that accepted the request`));
  }

  cancelled(requestId: string, sessionId: string | null, acceptedBy?: string | null): void {
    this.notify(completionCancelled, { request_id: requestId, session_id: sessionId }, true, acceptedBy ?? undefined);
  }

  /** Failed for good: the requester hears completion:error, the daemon's listeners completion:failed too. */
  failed(failure: PayloadOf<typeof completionError>): void {
    this.notify(completionError, failure, true);
  }

  private deliver(definition: RequestPush, payload: { request_id: string }, final: boolean): void {
    const requestId = payload.request_id;
    // A relayed end that arrives after the catch-up delivered it (or the other way round).
    if (final && this.live.hasEnded(requestId)) return;
    const connection = this.live.requesterOf(requestId);
    if (connection && !connection.push(definition, payload)) this.live.dropRequester(requestId);
    if (final) this.live.finished(requestId);
    this.bus.emit(definition, payload);
    if (definition === completionError) this.bus.emit(completionFailed, payload as PayloadOf<typeof completionError>);
  }

  private relay(to: string, definition: RequestPush, payload: { request_id: string }, final: boolean): void {
    // Progress is not replayed: while the database takes no signals, it is dropped rather than held without bound.
    if (!final && this.relaysWaiting >= MAX_RELAYS_WAITING) {
      if (this.progressDropped++ === 0) this.log.warn({ request_id: payload.request_id, to }, `${MAX_RELAYS_WAITING} relays wait for the database: progress pushes are dropped until they went out`);
      return;
    }
    for (const relay of signalsOf(definition, payload, final)) {
      const text = JSON.stringify(relay);
      this.relaysWaiting += 1;
      this.relays = this.relays
        .then(() => this.storage.signal(pushChannelOf(to), text))
        .finally(() => this.relaysDone())
        .catch((error: Error) => this.log.warn({ request_id: payload.request_id, to, err: error.message }, `${definition.name} not relayed to the node that accepted the request`));
    }
  }

  private relaysDone(): void {
    this.relaysWaiting -= 1;
    if (this.relaysWaiting > 0 || this.progressDropped === 0) return;
    this.log.warn({ dropped: this.progressDropped }, 'relays go out again; progress pushes were dropped meanwhile');
    this.progressDropped = 0;
  }

  private async received(text: string): Promise<void> {
    try {
      const relay = JSON.parse(text) as Relay;
      const definition = RELAYED.find((candidate) => candidate.name === relay.event);
      if (!definition) return;
      const payload = relay.payload ?? (await this.resultOf(relay.result_of!));
      if (payload) this.deliver(definition, payload, relay.final);
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'a relayed completion push could not be delivered');
    }
  }

  /**
   * Relayed pushes may have been missed: the requests accepted here that ended elsewhere get their
   * last push from their rows (progress already missed stays missed). One catch-up at a time.
   */
  private catchUp(): void {
    if (this.catchingUp) {
      // The one running may have read the rows before what this call was made for.
      this.catchUpAgain = true;
      return;
    }
    this.catchingUp = true;
    this.catchUpAgain = false;
    void this.catchUpNow()
      .catch((error: Error) => this.log.warn({ err: error.message }, 'missed completion pushes not looked for; looking again later'))
      .finally(() => {
        this.catchingUp = false;
        if (this.catchUpAgain) this.catchUp();
      });
  }

  private async catchUpNow(): Promise<void> {
    const awaited = this.live.awaitedElsewhere();
    if (awaited.length === 0) return;
    const statuses = await this.repo.statuses(awaited);
    for (const requestId of awaited) {
      const status = statuses.get(requestId);
      if (status === 'queued' || status === 'processing') continue;
      try {
        const row = await this.repo.byId(requestId);
        // Gone, or its agent moved: it ends on the node that accepted it now.
        if (!row || (row.acceptedBy !== null && row.acceptedBy !== this.me)) this.live.finished(requestId);
        else if (row.status === 'completed') {
          const result = await this.resultOf(requestId);
          if (result) this.deliver(completionResult, result, true);
        }
        else if (row.status === 'failed') {
          const failure: PayloadOf<typeof completionError> = {
            request_id: requestId,
            session_id: row.sessionId,
            error: row.lastError ?? 'failed',
            code: failureCode.catch('internal_error').parse(row.errorCode),
            attempts: row.attempts,
          };
          this.deliver(completionError, failure, true);
        } else if (row.status === 'cancelled') {
          const cancelled: PayloadOf<typeof completionCancelled> = { request_id: requestId, session_id: row.sessionId };
          this.deliver(completionCancelled, cancelled, true);
        }
      } catch (error) {
        this.log.warn({ request_id: requestId, err: (error as Error).message }, 'missed completion push not recovered');
      }
    }
  }

  private async resultOf(requestId: string): Promise<PayloadOf<typeof completionResult> | undefined> {
    const row = await this.repo.byId(requestId);
    if (row?.result == null) return undefined;
    return { request_id: requestId, session_id: row.resultSessionId, result: JSON.parse(row.result) };
  }
}
