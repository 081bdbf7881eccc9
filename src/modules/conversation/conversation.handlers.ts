import { Injectable } from '@nestjs/common';
import {
  conversationActiveParams,
  conversationExportParams,
  conversationGetParams,
  conversationListParams,
  conversationSearchParams,
  forkParams,
  lockAcquireParams,
  lockReleaseParams,
  lockStatusParams,
  noConversationParams,
  type z,
} from '../../../libs/client/src';
import { Handles } from '../../events/handles.decorator';
import { ConversationLocks } from './conversation-locks.service';
import { ConversationLogService } from './conversation-log.service';

@Injectable()
export class ConversationHandlers {
  constructor(
    private readonly logs: ConversationLogService,
    private readonly locks: ConversationLocks,
  ) {}

  @Handles('conversation:list', { summary: 'Conversations (session chains) from the response logs', params: conversationListParams })
  list({ limit, offset, sort_by, reverse }: z.output<typeof conversationListParams>) {
    const all = this.logs.list().sort((a, b) => {
      const order = sort_by === 'message_count' ? a.message_count - b.message_count : a[sort_by].localeCompare(b[sort_by]);
      return reverse ? -order : order;
    });
    return { conversations: all.slice(offset, offset + limit), total: all.length, offset, limit };
  }

  @Handles('conversation:search', { summary: 'Conversations whose prompts or replies contain a text', params: conversationSearchParams })
  search({ query, limit }: z.output<typeof conversationSearchParams>) {
    const results = this.logs.search(query);
    return { query, results: results.slice(0, limit), total_conversations: results.length };
  }

  @Handles('conversation:get', { summary: 'The messages of the conversation a session belongs to', params: conversationGetParams })
  get({ session_id, limit, offset }: z.output<typeof conversationGetParams>) {
    const { root, messages } = this.logs.messages(session_id);
    return { session_id, root_session_id: root, messages: messages.slice(offset, offset + limit), total: messages.length, offset, limit };
  }

  @Handles('conversation:export', { summary: 'Write a conversation to var/state/exports as Markdown or JSON', params: conversationExportParams })
  export({ session_id, format }: z.output<typeof conversationExportParams>) {
    return { format, ...this.logs.export(session_id, format) };
  }

  @Handles('conversation:stats', { summary: 'Totals over the response logs', params: noConversationParams })
  stats() {
    const conversations = this.logs.list();
    return {
      total_conversations: conversations.length,
      total_messages: conversations.reduce((sum, c) => sum + c.message_count, 0),
      earliest_timestamp: conversations.map((c) => c.first_timestamp).sort()[0] ?? null,
      latest_timestamp: conversations.map((c) => c.last_timestamp).sort().pop() ?? null,
    };
  }

  @Handles('conversation:active', { summary: 'Conversations with recent turns, and the conversation locks', params: conversationActiveParams })
  active({ max_age_hours }: z.output<typeof conversationActiveParams>) {
    const since = new Date(Date.now() - max_age_hours * 3_600_000).toISOString();
    const active = this.logs.list().filter((c) => c.last_timestamp >= since);
    return { active_sessions: active, total_active: active.length, locks: this.locks.status() };
  }

  @Handles('conversation:acquire_lock', { summary: 'Take a conversation lock, or queue for it (FIFO)', params: lockAcquireParams })
  acquire({ request_id, conversation_id, timeout_seconds }: z.output<typeof lockAcquireParams>) {
    return this.locks.acquire(request_id, conversation_id, timeout_seconds);
  }

  @Handles('conversation:release_lock', { summary: 'Release a lock; the next waiter gets it', params: lockReleaseParams })
  release({ request_id }: z.output<typeof lockReleaseParams>) {
    return this.locks.release(request_id);
  }

  @Handles('conversation:lock_status', { summary: 'One lock, or all', params: lockStatusParams })
  lockStatus({ conversation_id }: z.output<typeof lockStatusParams>) {
    return this.locks.status(conversation_id);
  }

  @Handles('conversation:fork_detected', { summary: 'Record that a conversation forked', params: forkParams })
  fork({ request_id, expected_conversation_id, actual_conversation_id }: z.output<typeof forkParams>) {
    return this.locks.forkDetected(request_id, expected_conversation_id, actual_conversation_id);
  }

  @Handles('checkpoint:collect', { summary: 'Conversation locks, for the checkpoint', params: noConversationParams, internal: true })
  collect() {
    return { module: 'conversation', locks: this.locks.snapshot() };
  }
}
