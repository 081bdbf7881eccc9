import { Injectable } from '@nestjs/common';
import {
  checkpointCollect,
  conversationAcquireLock,
  conversationActive,
  conversationExport,
  conversationForkDetected,
  conversationGet,
  conversationList,
  conversationLockStatus,
  conversationReleaseLock,
  conversationSearch,
  conversationStats,
  type HandlerResult,
  type ParamsOut,
} from '../../../libs/client/src';
import { Handles } from '../../events/handles.decorator';
import { ConversationLocks } from './conversation-locks.service';
import { ConversationHistory } from './conversation-history.service';

@Injectable()
export class ConversationHandlers {
  constructor(
    private readonly history: ConversationHistory,
    private readonly locks: ConversationLocks,
  ) {}

  @Handles(conversationList)
  async list({ limit, offset, sort_by, reverse }: ParamsOut<typeof conversationList>): Promise<HandlerResult<typeof conversationList>> {
    const all = (await this.history.list()).sort((a, b) => {
      const order = sort_by === 'message_count' ? a.message_count - b.message_count : a[sort_by].localeCompare(b[sort_by]);
      return reverse ? -order : order;
    });
    return { conversations: all.slice(offset, offset + limit), total: all.length, offset, limit };
  }

  @Handles(conversationSearch)
  async search({ query, limit }: ParamsOut<typeof conversationSearch>): Promise<HandlerResult<typeof conversationSearch>> {
    const { results, total } = await this.history.search(query, limit);
    return { query, results, total_conversations: total };
  }

  @Handles(conversationGet)
  async get({ session_id, limit, offset }: ParamsOut<typeof conversationGet>): Promise<HandlerResult<typeof conversationGet>> {
    const { root, messages, total } = await this.history.page(session_id, offset, limit);
    return { session_id, root_session_id: root, messages, total, offset, limit };
  }

  @Handles(conversationExport)
  async export({ session_id, format }: ParamsOut<typeof conversationExport>): Promise<HandlerResult<typeof conversationExport>> {
    return { format, ...(await this.history.export(session_id, format)) };
  }

  @Handles(conversationStats)
  async stats(): Promise<HandlerResult<typeof conversationStats>> {
    const conversations = await this.history.list();
    return {
      total_conversations: conversations.length,
      total_messages: conversations.reduce((sum, c) => sum + c.message_count, 0),
      earliest_timestamp: conversations.map((c) => c.first_timestamp).sort()[0] ?? null,
      latest_timestamp: conversations.map((c) => c.last_timestamp).sort().pop() ?? null,
    };
  }

  @Handles(conversationActive)
  async active({ max_age_hours }: ParamsOut<typeof conversationActive>): Promise<HandlerResult<typeof conversationActive>> {
    const since = new Date(Date.now() - max_age_hours * 3_600_000).toISOString();
    const active = (await this.history.list()).filter((c) => c.last_timestamp >= since);
    return { active_sessions: active, total_active: active.length, locks: this.locks.overview() };
  }

  @Handles(conversationAcquireLock)
  acquire({ request_id, conversation_id, timeout_seconds }: ParamsOut<typeof conversationAcquireLock>): HandlerResult<typeof conversationAcquireLock> {
    return this.locks.acquire(request_id, conversation_id, timeout_seconds);
  }

  @Handles(conversationReleaseLock)
  release({ request_id }: ParamsOut<typeof conversationReleaseLock>): HandlerResult<typeof conversationReleaseLock> {
    return this.locks.release(request_id);
  }

  @Handles(conversationLockStatus)
  lockStatus({ conversation_id }: ParamsOut<typeof conversationLockStatus>): HandlerResult<typeof conversationLockStatus> {
    return conversation_id === undefined ? this.locks.overview() : this.locks.status(conversation_id);
  }

  @Handles(conversationForkDetected)
  fork({ request_id, expected_conversation_id, actual_conversation_id }: ParamsOut<typeof conversationForkDetected>): HandlerResult<typeof conversationForkDetected> {
    return this.locks.forkDetected(request_id, expected_conversation_id, actual_conversation_id);
  }

  /** Conversation locks, for the checkpoint. */
  @Handles(checkpointCollect)
  collect(): HandlerResult<typeof checkpointCollect> {
    return { module: 'conversation', locks: this.locks.snapshot() };
  }
}
