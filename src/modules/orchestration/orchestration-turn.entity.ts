import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One routed reply of an instance: its transcript, in order. */
@Entity('orchestration_turns')
export class OrchestrationTurn {
  @PrimaryColumn('text', { name: 'orchestration_id' })
  orchestrationId: string;

  /** The instance's message_count before the reply was routed: its place in the transcript. */
  @PrimaryColumn('integer')
  seq: number;

  @Column('text', { name: 'agent_id' })
  agentId: string;

  @Column('text')
  text: string;

  /** Epoch ms. */
  @Column('real')
  at: number;
}
