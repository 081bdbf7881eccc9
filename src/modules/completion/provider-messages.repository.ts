import { Inject, Injectable } from '@nestjs/common';
import type { Database, Statement } from 'better-sqlite3';
import { SQLITE } from '../../database/sqlite.provider';
import { WriteQueue } from '../../database/write-queue';

/** A message as the Messages API takes it. */
export interface StoredMessage {
  role: 'user' | 'assistant';
  content: unknown;
}

/** The provider_messages rows: each session's conversation, oldest first; writes through the WriteQueue. */
@Injectable()
export class ProviderMessagesRepository {
  private readonly sql: Record<'insert' | 'ofSession', Statement>;

  constructor(
    @Inject(SQLITE) db: Database,
    private readonly writes: WriteQueue,
  ) {
    this.sql = {
      insert: db.prepare('INSERT INTO provider_messages (session_id, role, content, request_id, created_at) VALUES (@session, @role, @content, @request, @now)'),
      ofSession: db.prepare('SELECT role, content FROM provider_messages WHERE session_id = ? ORDER BY id'),
    };
  }

  /** The session's conversation so far; empty for a session that has none. */
  of(sessionId: string): StoredMessage[] {
    return (this.sql.ofSession.all(sessionId) as { role: StoredMessage['role']; content: string }[]).map((row) => ({ role: row.role, content: JSON.parse(row.content) as unknown }));
  }

  /** Adds one turn's messages together: a turn is kept whole or not at all. */
  append(sessionId: string, requestId: string, messages: StoredMessage[], now: number): Promise<void> {
    return this.writes.run(() => {
      for (const message of messages) this.sql.insert.run({ session: sessionId, role: message.role, content: JSON.stringify(message.content), request: requestId, now });
    });
  }
}
