import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { CompletionErrorCode } from '../../../libs/client/src';

export type CompletionStatus = 'queued' | 'processing' | 'completed' | 'failed' | 'cancelled';

/** One completion request, from the moment it is accepted: the row is the truth, not memory. */
@Entity('completion_requests')
@Index('idx_completion_requests_runnable', ['status', 'nextAttemptAt'])
@Index('idx_completion_requests_active', ['queueKey', 'seq'], { where: "status IN ('queued', 'processing')" })
// Budget checks add up what was spent in a period, on every attempt: by the time a request finished, as a whole, per agent and per profile.
@Index('idx_completion_requests_agent', ['agentId', 'completedAt', 'costUsd'])
@Index('idx_completion_requests_profile', ['profile', 'completedAt', 'costUsd'])
@Index('idx_completion_requests_completed', ['completedAt', 'costUsd'])
@Index('idx_completion_requests_result_session', ['resultSessionId'])
// Conversations are read a page of finished turns at a time, in the order they finished.
@Index('idx_completion_requests_finished', ['completedAt', 'seq'], { where: "status = 'completed' AND result_session_id IS NOT NULL" })
// The database itself keeps a queue (one session or conversation) to one running request, on one node.
@Index('idx_completion_requests_one_running', ['queueKey'], { unique: true, where: "status = 'processing'" })
export class CompletionRequest {
  @PrimaryColumn('text', { name: 'request_id' })
  requestId: string;

  /** Acceptance order; FIFO within a queue. */
  @Column('integer', { unique: true })
  seq: number;

  @Column('text')
  status: CompletionStatus;

  /** conversation_id, else session_id, else "default": one request at a time per key. */
  @Column('text', { name: 'queue_key' })
  queueKey: string;

  @Column('text', { name: 'session_id', nullable: true })
  sessionId: string | null;

  /** The session the CLI returned; the next turn resumes it. */
  @Column('text', { name: 'result_session_id', nullable: true })
  resultSessionId: string | null;

  /** 0 high, 1 normal, 2 low. */
  @Column('integer')
  priority: number;

  @Column('text')
  model: string;

  /** The request's data as accepted (JSON). */
  @Column('text')
  payload: string;

  @Column('integer')
  attempts: number;

  @Column('integer', { name: 'max_attempts' })
  maxAttempts: number;

  @Column('real', { name: 'next_attempt_at' })
  nextAttemptAt: number;

  @Column('text', { name: 'last_error', nullable: true })
  lastError: string | null;

  @Column('text', { name: 'error_code', nullable: true })
  errorCode: CompletionErrorCode | null;

  /** The standardised response (JSON) once completed. */
  @Column('text', { nullable: true })
  result: string | null;

  @Column('text', { name: 'client_id', nullable: true })
  clientId: string | null;

  @Column('text', { name: 'agent_id', nullable: true })
  agentId: string | null;

  /** Process group of the running attempt, shown by completion:status (orphans are found by their environment marker). */
  @Column('integer', { nullable: true })
  pid: number | null;

  @Column('real', { name: 'queued_at' })
  queuedAt: number;

  @Column('real', { name: 'started_at', nullable: true })
  startedAt: number | null;

  @Column('real', { name: 'completed_at', nullable: true })
  completedAt: number | null;

  /** Whose usage limits the request counts against: its provider's (a usage window parks the account's requests). */
  @Column('text', { default: 'claude-cli' })
  account: string;

  /** The composed profile of the agent the request runs for, as it was when accepted: costs add up under it. */
  @Column('text', { nullable: true })
  profile: string | null;

  /** Costs add up over attempts: a retried request may have paid for each. */
  @Column('real', { name: 'cost_usd', default: 0 })
  costUsd: number;

  @Column('integer', { name: 'input_tokens', default: 0 })
  inputTokens: number;

  @Column('integer', { name: 'output_tokens', default: 0 })
  outputTokens: number;

  @Column('integer', { name: 'cache_read_input_tokens', default: 0 })
  cacheReadInputTokens: number;

  @Column('integer', { name: 'cache_creation_input_tokens', default: 0 })
  cacheCreationInputTokens: number;

  @Column('integer', { name: 'num_turns', default: 0 })
  numTurns: number;

  @Column('integer', { name: 'duration_api_ms', default: 0 })
  durationApiMs: number;

  /** The event that accepted the request (JSON: correlation and event id): attempts on any node join its causal tree. */
  @Column('text', { nullable: true })
  cause: string | null;

  /** The node that accepted the request: its requester hears progress and result through that node. */
  @Column('text', { name: 'accepted_by', nullable: true })
  acceptedBy: string | null;

  /** The node whose lease runs the request while `processing`; null otherwise. */
  @Column('text', { nullable: true })
  owner: string | null;

  /** Raised by every claim and takeover: a write fenced by an older epoch changes nothing. */
  @Column('integer', { name: 'lease_epoch', default: 0 })
  leaseEpoch: number;

  /** When the owner's lease ends unless renewed (epoch ms); another node may then take the request over. */
  @Column('real', { name: 'lease_expires_at', nullable: true })
  leaseExpiresAt: number | null;
}
