import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { clusterNodes, completionProgress } from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { Storage } from '../../database/storage';
import { EventBus } from '../../events/event-bus';
import { UPKEEP } from '../../events/event-context';
import { DAEMON_LOG } from '../../logging/logger';
import { killCliProcessesOf } from './cli-processes';
import { CompletionNotifier } from './completion-notifier';
import { CompletionRepository, type TakenOver } from './completion.repository';
import { LiveRequests } from './live-requests';

/** The signal every node listens on: the queue moved (a request was accepted, handed back or finished). */
const QUEUE_SIGNAL = 'ksi_completion_queue';
/** The channel a node hears requests about its attempts on (a cancel sent to another node). */
const controlChannelOf = (nodeId: string): string => `ksi_control_${createHash('sha256').update(nodeId).digest('hex').slice(0, 32)}`;
/** Past a lease's end, how long before a takeover looks again, so a renewal just in time is not mistaken for a death. */
const EXPIRY_MARGIN_MS = 50;

/**
 * The leases of a cluster (nodes sharing one PostgreSQL database), renewed every third of
 * KSI_LEASE_TTL_MS: an attempt whose lease was lost (taken over after it expired, or cancelled on
 * another node) is stopped, and writes nothing; requests whose owner stopped renewing go back to the
 * queue as `node_lost`, their CLI processes killed when they run on this host. A node stopping hands
 * its requests back at once (see AttemptSettlement.endIfAborted). On SQLite there is one node: no timer.
 */
@Injectable()
export class CompletionLeases {
  private tickTimer?: NodeJS.Timeout;
  private expiryTimer?: NodeJS.Timeout;
  private onWork: () => void = () => undefined;
  private stopped = false;
  /** When this node last renewed its leases (epoch ms): one cut off from the database stops its attempts before others take them. */
  private renewedAt = 0;

  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(DAEMON_LOG) private readonly log: Logger,
    private readonly storage: Storage,
    private readonly repo: CompletionRepository,
    private readonly live: LiveRequests,
    private readonly notifier: CompletionNotifier,
    private readonly bus: EventBus,
  ) {}

  private get clustered(): boolean {
    return this.config.node.clustered;
  }

  /** Renews and takes over from now on; `onWork` is called whenever the queue may hold work for this node. */
  start(onWork: () => void): void {
    if (!this.clustered) return;
    this.onWork = onWork;
    this.renewedAt = this.clock.now();
    this.storage.onSignal(QUEUE_SIGNAL, () => this.onWork());
    this.storage.onSignal(controlChannelOf(this.config.node.id), (payload) => this.controlled(payload));
    void this.tick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.tickTimer);
    clearTimeout(this.expiryTimer);
  }

  /** Tells the other nodes the queue moved; a failure is only logged, since their polling finds the work too. */
  async announceWork(): Promise<void> {
    if (!this.clustered) return;
    await this.storage.signal(QUEUE_SIGNAL, this.config.node.id).catch((error: Error) => this.log.warn({ err: error.message }, 'queue signal not sent'));
  }

  /** Asks the node whose lease runs a request to cancel its attempt; false when the signal could not be sent. */
  async cancelOn(owner: string, requestId: string): Promise<boolean> {
    return this.storage
      .signal(controlChannelOf(owner), JSON.stringify({ cancel: requestId }))
      .then(() => true)
      .catch(() => false);
  }

  private controlled(payload: string): void {
    const { cancel } = JSON.parse(payload) as { cancel?: string };
    if (cancel) void this.live.abortRun(cancel, 'cancel');
  }

  private async tick(): Promise<void> {
    try {
      await this.renew();
      await this.takeOverExpired();
      await this.armExpiryTimer();
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'leases not renewed; trying again at the next heartbeat');
      this.stopWhenCutOff();
    }
    // Polling is the backstop for signals lost while the LISTEN connection was down.
    this.onWork();
    if (!this.stopped) this.tickTimer = setTimeout(() => void this.tick(), this.config.node.leaseTtlMs / 3).unref();
  }

  /**
   * Past two thirds of the TTL without a renewal, this node's leases may be taken over before it can
   * renew them: its attempts stop (writing nothing) rather than run beside their retries elsewhere.
   */
  private stopWhenCutOff(): void {
    if (this.clock.now() - this.renewedAt < (this.config.node.leaseTtlMs * 2) / 3) return;
    for (const requestId of this.live.leases().keys()) {
      this.log.warn({ request_id: requestId }, 'leases not renewed for two thirds of KSI_LEASE_TTL_MS: the attempt is stopped, another node runs it again');
      void this.live.abortRun(requestId, 'lease_lost');
    }
  }

  /** Attempts whose lease is no longer this node's (another took it over, or it was cancelled) are stopped. */
  private async renew(): Promise<void> {
    const held = this.live.leases();
    const now = this.clock.now();
    if (held.size === 0) {
      this.renewedAt = now;
      return;
    }
    const renewed = await this.repo.renew([...held.keys()], now + this.config.node.leaseTtlMs);
    this.renewedAt = now;
    for (const [requestId, epoch] of held) {
      if (renewed.get(requestId) === epoch || !this.live.isRunning(requestId)) continue;
      this.log.warn({ request_id: requestId }, 'lease on a completion lost (taken over or cancelled elsewhere); its attempt is stopped and writes nothing');
      void this.live.abortRun(requestId, 'lease_lost');
    }
  }

  /**
   * Requests whose owner stopped renewing run again: each exactly once more, on whichever node claims
   * it. Their CLI processes on this host are killed first, so none runs beside its retry.
   */
  private async takeOverExpired(): Promise<void> {
    const running = [...this.live.leases().keys()];
    const next = await this.repo.nextExpiry(running);
    if (next === null || next >= this.clock.now()) return;
    const { nodes } = await this.bus.requestOne(clusterNodes, { include_dead: true }, UPKEEP);
    const varDirs = new Map(nodes.filter((node) => node.host === this.config.node.host).map((node) => [node.node_id, node.var_dir]));
    const taken = await this.repo.takeOverExpired(
      this.clock.now(),
      running,
      (owner) => `Node ${owner} stopped renewing its lease while running this request; it runs again`,
      (row) => this.killOrphans(row, varDirs.get(row.owner)),
    );
    if (taken.length === 0) return;
    const at = this.clock.now() / 1000;
    for (const row of taken) {
      this.log.warn({ request_id: row.requestId, owner: row.owner }, 'took over a completion whose node stopped renewing its lease');
      const error = `Node ${row.owner} was lost while running this request`;
      this.notifier.notify(completionProgress, { request_id: row.requestId, session_id: row.sessionId, status: 'retry_scheduled', attempt: row.attempts, next_attempt_at: at, error, code: 'node_lost' }, false, row.acceptedBy);
    }
    await this.announceWork();
    this.onWork();
  }

  /** Kills the CLI processes of a request taken over from a node on this host (`varDir` is that node's; undefined elsewhere). */
  private killOrphans(row: TakenOver, varDir: string | undefined): void {
    if (varDir === undefined) return;
    const killed = killCliProcessesOf(varDir, '/proc', row.requestId);
    if (killed.length > 0) this.log.warn({ request_id: row.requestId, pids: killed }, 'killed the Claude CLI processes of a request taken over');
  }

  /** Looks for takeovers again right after the next lease held elsewhere would end, rather than at the next heartbeat. */
  private async armExpiryTimer(): Promise<void> {
    clearTimeout(this.expiryTimer);
    const next = await this.repo.nextExpiry([...this.live.leases().keys()]);
    if (next === null || this.stopped) return;
    const delay = Math.max(0, next - this.clock.now()) + EXPIRY_MARGIN_MS;
    if (delay >= this.config.node.leaseTtlMs / 3) return;
    this.expiryTimer = setTimeout(() => {
      void this.takeOverExpired()
        .then(() => this.armExpiryTimer())
        .catch((error: Error) => this.log.warn({ err: error.message }, 'takeover not done; trying again at the next heartbeat'));
    }, delay).unref();
  }
}
