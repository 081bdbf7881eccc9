import { Injectable } from '@nestjs/common';
import { sql } from '../../database/sql-statement';
import { Storage } from '../../database/storage';
import type { BusMessageRow } from './bus-message.entity';

const statements = {
  // SQLite has one writer; PostgreSQL's nodes publish at once, so its order comes from a sequence.
  insert: sql(
    'INSERT INTO bus_messages (id, seq, type, body, recipient, created_at) VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM bus_messages), ?, ?, ?, ?)',
    "INSERT INTO bus_messages (id, seq, type, body, recipient, created_at) VALUES (?, nextval('bus_messages_seq'), ?, ?, ?, ?)",
  ),
  prune: sql('DELETE FROM bus_messages WHERE (recipient IS NULL OR delivered_at IS NOT NULL) AND seq <= (SELECT MAX(seq) FROM bus_messages) - ?'),
  // Taken as delivered in one statement: nodes (and a connect racing a publish) never deliver one twice.
  takePending: sql('UPDATE bus_messages SET delivered_at = ? WHERE recipient = ? AND delivered_at IS NULL RETURNING id, body, seq'),
  putBack: sql('UPDATE bus_messages SET delivered_at = NULL WHERE id = ?'),
  bodyOf: sql('SELECT body FROM bus_messages WHERE id = ?'),
  pendingByRecipient: sql('SELECT recipient, COUNT(*) AS count FROM bus_messages WHERE delivered_at IS NULL AND recipient IS NOT NULL GROUP BY recipient'),
  count: sql('SELECT COUNT(*) FROM bus_messages'),
};

/** The signal nodes sharing a database send each other when a message was published. */
const PUBLISHED_SIGNAL = 'ksi_messages';

/** What a node announces of a message it published: its id, and its recipient when it waits in an offline inbox. */
export interface PublishedNote {
  from: string;
  id: string;
  to?: string;
}

/** Every query of `bus_messages`: the history, and the offline inboxes (rows with a recipient, not yet delivered). */
@Injectable()
export class BusMessageRepository {
  constructor(private readonly storage: Storage) {}

  /** Tells the nodes sharing the database of a message (nothing on SQLite). */
  async announce(note: PublishedNote): Promise<void> {
    await this.storage.signal(PUBLISHED_SIGNAL, JSON.stringify(note));
  }

  /** Calls `listener` for each message a node announced, this one's included. */
  onAnnounced(listener: (note: PublishedNote) => void): void {
    this.storage.onSignal(PUBLISHED_SIGNAL, (payload) => listener(JSON.parse(payload) as PublishedNote));
  }

  /** See Storage.onSignalsMissed. */
  onSignalsMissed(listener: () => void): void {
    this.storage.onSignalsMissed(listener);
  }

  async bodyOf(id: string): Promise<string | undefined> {
    const [body] = await this.storage.column<string>(statements.bodyOf, [id]);
    return body;
  }

  /** Records a message (JSON body) in publishing order; with `keep`, also deletes the history older than the newest `keep`. */
  async record(message: Pick<BusMessageRow, 'id' | 'type' | 'body' | 'recipient' | 'createdAt'>, keep?: number): Promise<void> {
    const values = [message.id, message.type, message.body, message.recipient, message.createdAt];
    if (keep === undefined) {
      await this.storage.writeStatement(statements.insert, values);
      return;
    }
    await this.storage.write(async (tx) => {
      await tx.run(statements.insert, values);
      await tx.run(statements.prune, [keep]);
    });
  }

  /** The messages waiting for `recipient`, oldest first, marked delivered at `at`: the caller delivers them, or puts back those it could not. */
  async takePending(recipient: string, at: number): Promise<Pick<BusMessageRow, 'id' | 'body'>[]> {
    const rows = await this.storage.writeReturning<Pick<BusMessageRow, 'id' | 'body' | 'seq'>>(statements.takePending, [at, recipient]);
    return rows.sort((a, b) => a.seq - b.seq).map(({ id, body }) => ({ id, body }));
  }

  /** Messages taken but not delivered wait again. */
  async putBack(ids: string[]): Promise<void> {
    await this.storage.write(async (tx) => {
      for (const id of ids) await tx.run(statements.putBack, [id]);
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
