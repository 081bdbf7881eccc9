import { Injectable } from '@nestjs/common';
import { sql } from '../../database/sql-statement';
import { Storage } from '../../database/storage';
import type { BusMessageRow } from './bus-message.entity';

const statements = {
  insert: sql(
    'INSERT INTO bus_messages (id, seq, type, body, recipient, created_at) VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM bus_messages), ?, ?, ?, ?)',
  ),
  prune: sql('DELETE FROM bus_messages WHERE (recipient IS NULL OR delivered_at IS NOT NULL) AND seq <= (SELECT MAX(seq) FROM bus_messages) - ?'),
  pendingFor: sql('SELECT id, body FROM bus_messages WHERE recipient = ? AND delivered_at IS NULL ORDER BY seq'),
  markDelivered: sql('UPDATE bus_messages SET delivered_at = ? WHERE id = ?'),
  pendingByRecipient: sql('SELECT recipient, COUNT(*) AS count FROM bus_messages WHERE delivered_at IS NULL AND recipient IS NOT NULL GROUP BY recipient'),
  count: sql('SELECT COUNT(*) FROM bus_messages'),
};

/** Every query of `bus_messages`: the history, and the offline inboxes (rows with a recipient, not yet delivered). */
@Injectable()
export class BusMessageRepository {
  constructor(private readonly storage: Storage) {}

  /** Records a message (JSON body) in publishing order; with `keep`, also deletes the history older than the newest `keep`. */
  async record(message: Pick<BusMessageRow, 'id' | 'type' | 'body' | 'recipient' | 'createdAt'>, keep?: number): Promise<void> {
    await this.storage.write(async (tx) => {
      await tx.run(statements.insert, [message.id, message.type, message.body, message.recipient, message.createdAt]);
      if (keep !== undefined) await tx.run(statements.prune, [keep]);
    });
  }

  /** The messages waiting for `recipient`, oldest first. */
  pendingFor(recipient: string): Promise<Pick<BusMessageRow, 'id' | 'body'>[]> {
    return this.storage.all(statements.pendingFor, [recipient]);
  }

  async markDelivered(ids: string[], at: number): Promise<void> {
    await this.storage.write(async (tx) => {
      for (const id of ids) await tx.run(statements.markDelivered, [at, id]);
    });
  }

  /** Undelivered messages per recipient. */
  async pendingCounts(): Promise<Record<string, number>> {
    const rows = await this.storage.all<{ recipient: string; count: number }>(statements.pendingByRecipient);
    return Object.fromEntries(rows.map((row) => [row.recipient, row.count]));
  }

  async count(): Promise<number> {
    const [count] = await this.storage.column<number>(statements.count);
    return count;
  }
}
