import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { BudgetPeriod, BudgetScope } from '../../../libs/client/src';

/** A spending limit of one agent, one profile or every completion (global), for all time or per UTC day or month. */
@Entity('budgets')
export class Budget {
  @PrimaryColumn('text')
  scope: BudgetScope;

  /** The agent id or profile name; '' for the global budget. */
  @PrimaryColumn('text', { name: 'scope_id' })
  scopeId: string;

  @Column('real', { name: 'limit_usd' })
  limitUsd: number;

  @Column('text')
  period: BudgetPeriod;

  @Column('real', { name: 'updated_at' })
  updatedAt: number;
}
