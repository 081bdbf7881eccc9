import { Injectable } from '@nestjs/common';
import type { budgetUpdated, PayloadOf } from '../../../libs/client/src';
import { sql } from '../../database/sql-statement';
import { Storage } from '../../database/storage';
import type { Budget } from './budget.entity';

const columns = 'scope, scope_id AS "scopeId", limit_usd AS "limitUsd", period, updated_at AS "updatedAt"';

const statements = {
  all: sql(`SELECT ${columns} FROM budgets ORDER BY scope, scope_id`),
  upsert: sql(
    `INSERT INTO budgets (scope, scope_id, limit_usd, period, updated_at) VALUES (@scope, @scopeId, @limitUsd, @period, @updatedAt)
     ON CONFLICT (scope, scope_id) DO UPDATE SET limit_usd = excluded.limit_usd, period = excluded.period, updated_at = excluded.updated_at`,
  ),
  delete: sql('DELETE FROM budgets WHERE scope = ? AND scope_id = ?'),
};

/** The signal nodes sharing a database send each other when a budget changed. */
const CHANGED_SIGNAL = 'ksi_budgets';

/** Every query of `budgets`. Times are epoch ms; writes resolve once committed. */
@Injectable()
export class BudgetRepository {
  constructor(private readonly storage: Storage) {}

  /** Tells the nodes sharing the database that node `from` changed a budget (nothing on SQLite). */
  async announce(from: string, change: PayloadOf<typeof budgetUpdated>): Promise<void> {
    await this.storage.signal(CHANGED_SIGNAL, JSON.stringify({ from, change }));
  }

  /** Calls `listener` with each change a node announced, this one's included. */
  onAnnounced(listener: (from: string, change: PayloadOf<typeof budgetUpdated>) => void): void {
    this.storage.onSignal(CHANGED_SIGNAL, (payload) => {
      const { from, change } = JSON.parse(payload) as { from: string; change: PayloadOf<typeof budgetUpdated> };
      listener(from, change);
    });
  }

  /** See Storage.soleEpoch: while it holds, budgets read here may be answered from memory. */
  soleEpoch(): number | undefined {
    return this.storage.soleEpoch();
  }

  all(): Promise<Budget[]> {
    return this.storage.all<Budget>(statements.all);
  }

  async save(budget: Budget): Promise<void> {
    await this.storage.writeStatement(statements.upsert, budget);
  }

  /** False when there was no such budget. */
  delete(scope: Budget['scope'], scopeId: string): Promise<boolean> {
    return this.storage.writeStatement(statements.delete, [scope, scopeId]).then((changes) => changes > 0);
  }
}
