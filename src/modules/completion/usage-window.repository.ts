import { Injectable } from '@nestjs/common';
import { sql } from '../../database/sql-statement';
import { Storage } from '../../database/storage';
import type { UsageWindowRow } from './usage-window.entity';

const statements = {
  all: sql('SELECT account, paused_until AS "pausedUntil", reason, request_id AS "requestId" FROM usage_windows'),
  save: sql(
    `INSERT INTO usage_windows (account, paused_until, reason, request_id) VALUES (@account, @pausedUntil, @reason, @requestId)
     ON CONFLICT (account) DO UPDATE SET paused_until = excluded.paused_until, reason = excluded.reason, request_id = excluded.request_id`,
  ),
  delete: sql('DELETE FROM usage_windows WHERE account = ?'),
};

/** Every query of `usage_windows`. Times are epoch ms; writes resolve once committed. */
@Injectable()
export class UsageWindowRepository {
  constructor(private readonly storage: Storage) {}

  all(): Promise<UsageWindowRow[]> {
    return this.storage.all<UsageWindowRow>(statements.all);
  }

  async save(window: UsageWindowRow): Promise<void> {
    await this.storage.writeStatement(statements.save, window);
  }

  async delete(account: string): Promise<void> {
    await this.storage.writeStatement(statements.delete, [account]);
  }
}
