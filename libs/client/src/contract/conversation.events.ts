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

export interface ConversationMessage {
  timestamp: string;
  sender: string;
  content: string;
  type: 'user' | 'claude';
  session_id: string;
  request_id: string;
}

export interface ConversationSummary {
  session_id: string;
  root_session_id: string;
  message_count: number;
  first_timestamp: string;
  last_timestamp: string;
  participants: string[];
}

/** Every conversation event's definition. */
export const conversationEvents = [] as const;
