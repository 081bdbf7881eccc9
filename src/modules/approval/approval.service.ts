import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  agentAdopted,
  approvalDecided,
  approvalRequested,
  permissionGetAgent,
  systemReady,
  systemShutdownStarted,
  type ApprovalAnswer,
  type ApprovalRecord,
  type ApprovalStatus,
  type ParamsOut,
  type PayloadOf,
  type approvalDecide,
  type approvalPrompt,
} from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { EventBus } from '../../events/event-bus';
import type { ClientConnection, EventContext } from '../../events/event-context';
import { EventError } from '../../events/event-error';
import { Listens } from '../../events/handles.decorator';
import { DAEMON_LOG } from '../../logging/logger';
import type { Approval } from './approval.entity';
import { ApprovalRepository } from './approval.repository';
import { allowingRule, argumentOf, denyingRule, subjectOf } from './approval-rules';
import { ApprovalWebhook } from './approval-webhook';

type Decision = 'allow' | 'deny';

/**
 * The approval inbox. A tool call the CLI asks about (its permission prompt tool, through the agent's
 * MCP bridge) is decided by the agent's rules (its profile's `approvals`, then what approvers asked to
 * remember); anything else becomes a durable request that waits for `approval:decide` (the operator, or
 * the agent's parent) up to the profile's timeout, then is denied.
 *
 * In a cluster a call waits on the node whose bridge asked, while any node may decide, and the request
 * must time out even when that node is gone: every change is announced to the other nodes, which read
 * the row (see heard), and each node reads the pending requests again every third of its lease TTL.
 */
@Injectable()
export class ApprovalService implements OnModuleInit, OnModuleDestroy {
  /** The calls waiting for each pending request; undefined tells one it will not be heard (its connection or the daemon is going). */
  private readonly waiting = new Map<string, ((answer: ApprovalAnswer | undefined) => void)[]>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly subscribers = new Set<ClientConnection>();
  private catchUpTimer?: NodeJS.Timeout;

  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    @Inject(DAEMON_LOG) private readonly log: Logger,
    private readonly repo: ApprovalRepository,
    private readonly bus: EventBus,
    private readonly webhook: ApprovalWebhook,
  ) {}

  onModuleInit(): void {
    this.repo.onAnnounced(({ from, approvalId }) => {
      if (from !== this.config.node.id) void this.heard(approvalId).catch((error: Error) => this.log.warn({ approval_id: approvalId, err: error.message }, 'approval changed on another node not read'));
    });
    this.repo.onSignalsMissed(() => this.catchUpLogged());
  }

  /** Requests still pending from before a restart (or, in a cluster, made on another node) time out as they would have. */
  @Listens(systemReady)
  async armTimeouts(): Promise<void> {
    await this.catchUp();
    // The backstop for signals that never came (a NOTIFY that failed).
    if (this.config.node.clustered) this.catchUpTimer = setInterval(() => this.catchUpLogged(), this.config.node.leaseTtlMs / 3).unref();
  }

  /**
   * The daemon stops: waiting calls end now (their CLI is stopped with the daemon, and its turn runs
   * again after the restart, when its new call joins the request that still waits here).
   */
  @Listens(systemShutdownStarted)
  releaseWaiting(): void {
    for (const waiters of this.waiting.values()) for (const release of waiters) release(undefined);
    this.waiting.clear();
  }

  /**
   * An agent's calls wait on the node that runs its turns. When it moves here, a call that waited on
   * another node is gone with that node's CLI, and its turn runs again here and asks again: its request
   * is withdrawn rather than left answerable until its timeout, and a decision no call heard stays unheard.
   */
  @Listens(agentAdopted)
  async closeElsewhere({ agent_id, node_id }: PayloadOf<typeof agentAdopted>): Promise<void> {
    const reason = (askedOn: string) => `Asked on node ${askedOn}, which no longer runs agent ${agent_id}: its turn runs again on node ${node_id}, and asks there`;
    const now = this.clock.now();
    for (const approval of await this.repo.closeElsewhere(agent_id, node_id, now, reason)) {
      this.disarm(approval.approvalId);
      this.announce(approval.approvalId);
      this.bus.emit(approvalDecided, {
        approval_id: approval.approvalId,
        agent_id,
        tool_name: approval.toolName,
        subject: approval.subject,
        decision: 'deny',
        decided_by: 'withdrawn',
        rule: null,
        reason: reason(approval.nodeId!),
        waited_ms: now - approval.requestedAt,
      });
    }
  }

  onModuleDestroy(): void {
    clearInterval(this.catchUpTimer);
    for (const timer of this.timers.values()) clearTimeout(timer);
  }

  /** `caller` is the bridge's connection: when it goes (its CLI was stopped), the call stops waiting. */
  async prompt(agentId: string, { tool_name, input, tool_use_id }: ParamsOut<typeof approvalPrompt>, caller?: ClientConnection): Promise<ApprovalAnswer> {
    const subject = subjectOf(tool_name, input);
    const argument = argumentOf(subject, tool_name);
    const { permissions } = await this.bus.requestOne(permissionGetAgent, { agent_id: agentId });
    const remembered = await this.repo.rulesOf(agentId);
    const rule = (rules: string[], decision: Decision) => {
      const exact = remembered.find((entry) => entry.decision === decision && entry.subject === subject);
      return exact ? exact.subject : (decision === 'deny' ? denyingRule : allowingRule)(rules, tool_name, argument);
    };
    for (const [decision, matched] of [['deny', rule(permissions.approvals.deny, 'deny')], ['allow', rule(permissions.approvals.allow, 'allow')]] as const) {
      if (matched === undefined) continue;
      this.bus.emit(approvalDecided, { approval_id: null, agent_id: agentId, tool_name, subject, decision, decided_by: 'rule', rule: matched, reason: null, waited_ms: 0 });
      return decision === 'allow' ? { behavior: 'allow', updatedInput: input } : { behavior: 'deny', message: `Denied by the rule ${matched} of agent ${agentId}` };
    }

    // A call made again for a request that is open, or was decided while nobody waited (the CLI died with a restart), gets that one's answer.
    // Only one asked here: a call that waited on another node went with it (see closeElsewhere).
    const open = await this.repo.unanswered(agentId, subject, this.config.node.id);
    if (open && open.status !== 'pending') return this.answered(open);
    const approval = open ?? (await this.create(agentId, tool_name, input, subject, tool_use_id ?? null, permissions.approvals.timeout_seconds));
    const answer = await new Promise<ApprovalAnswer | undefined>((resolve) => {
      this.waiting.set(approval.approvalId, [...(this.waiting.get(approval.approvalId) ?? []), resolve]);
      caller?.onClose(() => {
        const waiters = this.waiting.get(approval.approvalId);
        if (!waiters?.includes(resolve)) return;
        this.waiting.set(approval.approvalId, waiters.filter((waiter) => waiter !== resolve));
        resolve(undefined);
      });
    });
    // Nobody hears this one; the request keeps waiting for the call its turn makes when it runs again.
    if (!answer) return { behavior: 'deny', message: 'The call ended before a decision (its CLI stopped, or KSI is stopping); the turn asks again when it runs again' };
    await this.repo.markAnswered(approval.approvalId, this.clock.now());
    return answer;
  }

  list(status: ApprovalStatus): Promise<ApprovalRecord[]> {
    return this.repo.withStatus(status).then((approvals) => approvals.map(recordOf));
  }

  async get(approvalId: string): Promise<ApprovalRecord> {
    return recordOf(await this.find(approvalId));
  }

  /** The operator decides any request; an agent only its own children's (its profile must allow approval:decide). */
  async decide({ approval_id, decision, reason, remember }: ParamsOut<typeof approvalDecide>, context: EventContext): Promise<ApprovalRecord> {
    const approval = await this.find(approval_id);
    if (context.agentId !== undefined) {
      const { parent_id } = await this.bus.requestOne(permissionGetAgent, { agent_id: approval.agentId });
      if (parent_id !== context.agentId) throw new EventError('permission_denied', `Agent ${context.agentId} decides only for the agents it spawned; ${approval.agentId} is not its child`);
    }
    const decidedBy = context.agentId === undefined ? 'operator' : `agent:${context.agentId}`;
    return this.settle(approval, decision, reason ?? null, decidedBy, remember);
  }

  subscribe(connection: ClientConnection): void {
    if (this.subscribers.has(connection)) return;
    this.subscribers.add(connection);
    connection.onClose(() => this.subscribers.delete(connection));
  }

  private async find(approvalId: string): Promise<Approval> {
    const approval = await this.repo.byId(approvalId);
    if (!approval) throw new EventError('not_found', `No approval request ${approvalId}; approval:list shows the pending ones`);
    return approval;
  }

  private async create(agentId: string, toolName: string, input: Record<string, unknown>, subject: string, toolUseId: string | null, timeoutSeconds: number): Promise<Approval> {
    const now = this.clock.now();
    const approval: Approval = {
      approvalId: randomUUID(),
      agentId,
      toolName,
      input: JSON.stringify(input),
      subject,
      toolUseId,
      status: 'pending',
      reason: null,
      decidedBy: null,
      remember: 0,
      requestedAt: now,
      timeoutAt: now + timeoutSeconds * 1000,
      decidedAt: null,
      answeredAt: null,
      nodeId: this.config.node.id,
    };
    await this.repo.insert(approval);
    this.armTimeout(approval);
    this.announce(approval.approvalId);
    const record = recordOf(approval);
    this.pushRequested(record);
    this.bus.emit(approvalRequested, record);
    this.webhook.notify(record);
    return approval;
  }

  private pushRequested(record: ApprovalRecord): void {
    for (const connection of this.subscribers) if (!connection.push(approvalRequested, record)) this.subscribers.delete(connection);
  }

  /** The other nodes read the request again (see heard). */
  private announce(approvalId: string): void {
    void this.repo.announce({ from: this.config.node.id, approvalId }).catch((error: Error) => this.log.warn({ approval_id: approvalId, err: error.message }, 'approval change not announced to the other nodes'));
  }

  /** Another node made, decided or withdrew the request. */
  private async heard(approvalId: string): Promise<void> {
    const approval = await this.repo.byId(approvalId);
    if (!approval) return;
    if (approval.status === 'pending') this.learned(approval);
    else this.closed(approval);
  }

  /** A pending request not timed here yet (made on another node, or before a restart): it is, and this node's subscribers hear of it. */
  private learned(approval: Approval): void {
    if (this.timers.has(approval.approvalId)) return;
    this.armTimeout(approval);
    this.pushRequested(recordOf(approval));
  }

  /** What signals may not have told: pending requests are learned, and those timed or waited on here that are pending no more are closed. */
  private async catchUp(): Promise<void> {
    const pending = await this.repo.withStatus('pending');
    for (const approval of pending) this.learned(approval);
    const open = new Set(pending.map((approval) => approval.approvalId));
    for (const approvalId of new Set([...this.timers.keys(), ...this.waiting.keys()])) if (!open.has(approvalId)) await this.closeIfDone(approvalId);
  }

  private catchUpLogged(): void {
    void this.catchUp().catch((error: Error) => this.log.warn({ err: error.message }, 'approval requests not read again; reading them again later'));
  }

  /** Read again: one made here since catchUp read the pending ones is still pending. */
  private async closeIfDone(approvalId: string): Promise<void> {
    const approval = await this.repo.byId(approvalId);
    if (approval && approval.status !== 'pending') this.closed(approval);
  }

  /** Decided or withdrawn (here, or on any node): the calls waiting here get its answer, once. */
  private closed(approval: Approval): void {
    this.disarm(approval.approvalId);
    const waiters = this.waiting.get(approval.approvalId) ?? [];
    this.waiting.delete(approval.approvalId);
    const answer = answerOf(approval);
    for (const resolve of waiters) resolve(answer);
  }

  private disarm(approvalId: string): void {
    clearTimeout(this.timers.get(approvalId));
    this.timers.delete(approvalId);
  }

  private async settle(approval: Approval, decision: Decision, reason: string | null, decidedBy: string, remember: boolean): Promise<ApprovalRecord> {
    const now = this.clock.now();
    const status: ApprovalStatus = decidedBy === 'timeout' ? 'expired' : decision === 'allow' ? 'allowed' : 'denied';
    const rule = remember ? { agentId: approval.agentId, subject: approval.subject, decision, createdAt: now } : undefined;
    const settled = await this.repo.decide({ approvalId: approval.approvalId, status, reason, decidedBy, remember: remember ? 1 : 0, now }, rule);
    if (!settled) throw new EventError('already_decided', `Approval ${approval.approvalId} is ${(await this.find(approval.approvalId)).status}, not pending`);
    const decided = { ...approval, status, reason, decidedBy, remember: remember ? 1 : 0, decidedAt: now };
    this.closed(decided);
    this.announce(approval.approvalId);
    this.bus.emit(approvalDecided, {
      approval_id: approval.approvalId,
      agent_id: approval.agentId,
      tool_name: approval.toolName,
      subject: approval.subject,
      decision,
      decided_by: decidedBy,
      rule: null,
      reason,
      waited_ms: now - approval.requestedAt,
    });
    return recordOf(decided);
  }

  private armTimeout(approval: Approval): void {
    // The node the call waits on denies it on time; the others a lease TTL later, should that node be gone (one write wins).
    const grace = approval.nodeId === null || approval.nodeId === this.config.node.id ? 0 : this.config.node.leaseTtlMs;
    const delay = Math.max(0, approval.timeoutAt + grace - this.clock.now());
    const expire = () => {
      const seconds = Math.round((approval.timeoutAt - approval.requestedAt) / 1000);
      // Already closed on another node whose signal did not come: the calls here get that answer.
      void this.settle(approval, 'deny', `Nobody decided within ${seconds} s, so it was denied`, 'timeout', false)
        .catch(() => this.closeIfDone(approval.approvalId))
        .catch(() => undefined);
    };
    this.timers.set(approval.approvalId, setTimeout(expire, Math.min(delay, 2 ** 31 - 1)).unref());
  }

  private async answered(approval: Approval): Promise<ApprovalAnswer> {
    await this.repo.markAnswered(approval.approvalId, this.clock.now());
    return answerOf(approval);
  }
}

/** What the CLI gets for a decided request. */
function answerOf(approval: Approval): ApprovalAnswer {
  if (approval.status === 'allowed') return { behavior: 'allow', updatedInput: JSON.parse(approval.input) as Record<string, unknown> };
  // Timed out or withdrawn: the reason says why.
  const by = approval.decidedBy === null || approval.decidedBy === 'timeout' || approval.decidedBy === 'withdrawn' ? '' : ` by ${approval.decidedBy}`;
  return { behavior: 'deny', message: `${approval.toolName} was denied${by}${approval.reason ? `: ${approval.reason}` : ''}` };
}

function recordOf(approval: Approval): ApprovalRecord {
  return {
    approval_id: approval.approvalId,
    agent_id: approval.agentId,
    tool_name: approval.toolName,
    input: JSON.parse(approval.input) as Record<string, unknown>,
    subject: approval.subject,
    tool_use_id: approval.toolUseId,
    status: approval.status,
    reason: approval.reason,
    decided_by: approval.decidedBy,
    remember: approval.remember === 1,
    requested_at: approval.requestedAt / 1000,
    timeout_at: approval.timeoutAt / 1000,
    decided_at: approval.decidedAt === null ? null : approval.decidedAt / 1000,
  };
}
