import { defineRequest } from './definition';
import { nonEmpty, safeId, z } from './schema';

export const conversationListParams = z.object({
  limit: z.number().int().min(1).default(100),
  offset: z.number().int().min(0).default(0),
  sort_by: z.enum(['last_timestamp', 'first_timestamp', 'message_count']).default('last_timestamp'),
  reverse: z.boolean().default(true),
});
export const conversationSearchParams = z.object({ query: nonEmpty('Text to find (case-insensitive)'), limit: z.number().int().min(1).default(50) });
export const conversationGetParams = z.object({ session_id: safeId('Any session of the conversation'), limit: z.number().int().min(1).default(1000), offset: z.number().int().min(0).default(0) });
export const conversationExportParams = z.object({ session_id: safeId('Any session of the conversation'), format: z.enum(['markdown', 'json']).default('markdown') });
export const conversationActiveParams = z.object({ max_age_hours: z.number().positive().default(2) });
export const lockAcquireParams = z.object({
  request_id: nonEmpty('Who wants the lock'),
  conversation_id: nonEmpty('The conversation'),
  timeout_seconds: z.number().positive().default(300).describe('The lock expires after this long'),
});
export const lockReleaseParams = z.object({ request_id: nonEmpty('The holder') });
export const lockStatusParams = z.object({ conversation_id: z.string().optional() });
export const forkParams = z.object({ request_id: nonEmpty('Request'), expected_conversation_id: nonEmpty('Expected'), actual_conversation_id: nonEmpty('Actual') });
export const noConversationParams = z.object({});

const timestamp = z.string().describe('ISO date');

export const conversationMessage = z.object({
  timestamp,
  sender: z.string().describe('Who sent the prompt (an agent, a client, "operator"), or "Claude"'),
  content: z.string(),
  type: z.enum(['user', 'claude']),
  session_id: z.string().describe('The session the turn returned'),
  request_id: z.string(),
});
export type ConversationMessage = z.output<typeof conversationMessage>;

export const conversationSummary = z.object({
  session_id: z.string().describe('The newest session of the chain: resume with this one'),
  root_session_id: z.string().describe('The session the conversation started as'),
  message_count: z.number(),
  first_timestamp: timestamp,
  last_timestamp: timestamp,
  participants: z.array(z.string()),
});
export type ConversationSummary = z.output<typeof conversationSummary>;

export const conversationMatches = z.object({
  session_id: z.string(),
  root_session_id: z.string(),
  matches: z.array(conversationMessage).describe('The first 10 matching messages'),
  match_count: z.number(),
});
export type ConversationMatches = z.output<typeof conversationMatches>;

export const exportedConversation = z.object({ export_path: z.string().describe('The file written'), message_count: z.number(), size_bytes: z.number() });
export type ExportedConversation = z.output<typeof exportedConversation>;

const conversationId = z.string();
export const lockAcquired = z.discriminatedUnion('acquired', [
  z.object({ acquired: z.literal(true), state: z.literal('locked'), conversation_id: conversationId }),
  z.object({
    acquired: z.literal(false),
    state: z.literal('queued'),
    conversation_id: conversationId,
    position: z.number().describe('Place in the queue, from 1'),
    holder: z.string().describe('The request holding the lock'),
  }),
]);
export type LockAcquired = z.output<typeof lockAcquired>;

export const lockReleased = z.discriminatedUnion('released', [
  z.object({ released: z.literal(true), conversation_id: conversationId, next_request: z.string().nullable().describe('The waiter that holds the lock now') }),
  z.object({ released: z.literal(false), error: z.string().describe('Why nothing was released'), conversation_id: conversationId.optional() }),
]);
export type LockReleased = z.output<typeof lockReleased>;

/** One conversation's lock. */
export const lockState = z.discriminatedUnion('locked', [
  z.object({ locked: z.literal(false), state: z.literal('unlocked'), conversation_id: conversationId }),
  z.object({
    locked: z.literal(true),
    state: z.enum(['locked', 'forked']),
    conversation_id: conversationId,
    holder: z.string(),
    acquired_at: z.number().describe('Epoch seconds'),
    expires_at: z.number().describe('Epoch seconds'),
    queue_length: z.number(),
    queue: z.array(z.string()).describe('The first 5 waiters'),
    parent_conversation: z.string().nullable().describe('The conversation this one forked from'),
    child_conversations: z.array(z.string()).describe('Conversations forked from this one'),
  }),
]);
export type LockState = z.output<typeof lockState>;

/** Every conversation lock. */
export const lockOverview = z.object({
  total_locks: z.number(),
  total_forks: z.number(),
  locks: z.record(conversationId, z.object({ holder: z.string(), queue_length: z.number(), is_fork: z.boolean() })),
});
export type LockOverview = z.output<typeof lockOverview>;

export const forkRecorded = z.object({ fork_detected: z.literal(true), parent_conversation: conversationId, child_conversation: conversationId });
export type ForkRecorded = z.output<typeof forkRecorded>;

const page = { total: z.number(), offset: z.number(), limit: z.number() };

export const conversationList = defineRequest('conversation:list', {
  summary: "Conversations (session chains) of every node's finished turns",
  params: conversationListParams,
  result: z.object({ conversations: z.array(conversationSummary), ...page }),
});
export const conversationSearch = defineRequest('conversation:search', {
  summary: 'Conversations whose prompts or replies contain a text',
  params: conversationSearchParams,
  result: z.object({ query: z.string(), results: z.array(conversationMatches).describe('Most matches first'), total_conversations: z.number() }),
});
export const conversationGet = defineRequest('conversation:get', {
  summary: 'The messages of the conversation a session belongs to',
  params: conversationGetParams,
  result: z.object({ session_id: z.string(), root_session_id: z.string(), messages: z.array(conversationMessage), ...page }),
});
export const conversationExport = defineRequest('conversation:export', {
  summary: 'Write a conversation to var/state/exports as Markdown or JSON',
  params: conversationExportParams,
  result: z.object({ format: z.enum(['markdown', 'json']), ...exportedConversation.shape }),
});
export const conversationStats = defineRequest('conversation:stats', {
  summary: "Totals over every node's conversations",
  params: noConversationParams,
  result: z.object({
    total_conversations: z.number(),
    total_messages: z.number(),
    earliest_timestamp: timestamp.nullable(),
    latest_timestamp: timestamp.nullable(),
  }),
});
export const conversationActive = defineRequest('conversation:active', {
  summary: 'Conversations with recent turns, and the conversation locks',
  params: conversationActiveParams,
  result: z.object({ active_sessions: z.array(conversationSummary), total_active: z.number(), locks: lockOverview }),
});
export const conversationAcquireLock = defineRequest('conversation:acquire_lock', {
  summary: 'Take a conversation lock, or queue for it (FIFO)',
  params: lockAcquireParams,
  result: lockAcquired,
});
export const conversationReleaseLock = defineRequest('conversation:release_lock', {
  summary: 'Release a lock; the next waiter gets it',
  params: lockReleaseParams,
  result: lockReleased,
});
export const conversationLockStatus = defineRequest('conversation:lock_status', {
  summary: 'One lock, or all',
  params: lockStatusParams,
  result: z.union([lockState, lockOverview]),
});
export const conversationForkDetected = defineRequest('conversation:fork_detected', {
  summary: 'Record that a conversation forked',
  params: forkParams,
  result: forkRecorded,
});

/** Every conversation event's definition. */
export const conversationEvents = [
  conversationList,
  conversationSearch,
  conversationGet,
  conversationExport,
  conversationStats,
  conversationActive,
  conversationAcquireLock,
  conversationReleaseLock,
  conversationLockStatus,
  conversationForkDetected,
] as const;
