import { Injectable } from '@nestjs/common';
import { sql } from '../../database/sql-statement';
import { Storage } from '../../database/storage';
import type { ProviderMessage } from './provider-message.entity';

/** A message as the Messages API takes it. */
export interface StoredMessage {
  role: ProviderMessage['role'];
  content: unknown;
}

const statements = {
  insert: sql('INSERT INTO provider_messages (session_id, role, content, request_id, created_at) VALUES (@sessionId, @role, @content, @requestId, @createdAt)'),
  ofSession: sql('SELECT role, content FROM provider_messages WHERE session_id = ? ORDER BY id'),
};

/** Every query of provider_messages: each session's conversation, oldest first. */
@Injectable()
export class ProviderMessagesRepository {
  constructor(private readonly storage: Storage) {}

  /** The session's conversation so far; empty for a session that has none. */
  async of(sessionId: string): Promise<StoredMessage[]> {
    const rows = await this.storage.all<Pick<ProviderMessage, 'role' | 'content'>>(statements.ofSession, [sessionId]);
    return rows.map((row) => ({ role: row.role, content: JSON.parse(row.content) as unknown }));
  }

  /** Adds one turn's messages together: a turn is kept whole or not at all. */
  async append(sessionId: string, requestId: string, messages: StoredMessage[], now: number): Promise<void> {
    await this.storage.write(async (tx) => {
      for (const message of messages) {
        const row: Omit<ProviderMessage, 'id'> = { sessionId, role: message.role, content: JSON.stringify(message.content), requestId, createdAt: now };
        await tx.run(statements.insert, row);
      }
    });
  }
}
