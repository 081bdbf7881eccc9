import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A running or finished instance of an orchestration pattern, kept in the database so any node can route it and it outlives the node that started it. */
@Entity('orchestrations')
@Index('idx_orchestrations_state', ['state'])
export class OrchestrationRow {
  @PrimaryColumn('text', { name: 'orchestration_id' })
  orchestrationId: string;

  @Column('text')
  pattern: string;

  /** running, ending (its agents are being terminated), terminated */
  @Column('text')
  state: string;

  /** Why it ended (rounds, timeout, requested, event:<name>); null while running. */
  @Column('text', { nullable: true })
  reason: string | null;

  /** JSON: the pattern's agent names and the ids of the agents spawned for them. */
  @Column('text')
  agents: string;

  /** JSON: agent ids in speaking order. */
  @Column('text', { name: 'turn_order' })
  turnOrder: string;

  /** Index in turn_order of the agent whose reply is awaited. */
  @Column('integer')
  turn: number;

  @Column('integer')
  rounds: number;

  /** Replies routed so far; a route is written only if this is still what it read. */
  @Column('integer', { name: 'message_count' })
  messageCount: number;

  /** Epoch ms. */
  @Column('real', { name: 'started_at' })
  startedAt: number;

  /** Epoch ms. */
  @Column('real', { name: 'ended_at', nullable: true })
  endedAt: number | null;

  /** Epoch ms after which it ends with reason timeout; null without a timeout. */
  @Column('real', { name: 'timeout_at', nullable: true })
  timeoutAt: number | null;

  /** The event name pattern (glob) that ends it. */
  @Column('text', { name: 'end_event', nullable: true })
  endEvent: string | null;

  /** JSON {agent_id, message} of a turn written but not yet handed to the agent; null once it is. */
  @Column('text', { name: 'pending_turn', nullable: true })
  pendingTurn: string | null;

  /** Epoch ms the pending turn, or the ending, was written: a node finds it stale, and finishes it, once its writer is presumed gone. */
  @Column('real', { name: 'pending_since', nullable: true })
  pendingSince: number | null;

  /** The agent that started it (it may terminate it); null when the operator did, or it started before starters were recorded. */
  @Column('text', { name: 'started_by', nullable: true })
  startedBy: string | null;
}
