import { defineRequest } from './definition';
import { jsonObject, jsonValue, nonEmpty, z } from './schema';

// The default depends on who asks (the handler fills it in): an identified agent's is its own, agent:<id>.
const stateNamespace = z.string().min(1, 'Must not be empty').optional().describe('Namespace of the key (default: global; an agent\'s: agent:<its id>)');
const queueNamespace = z.string().min(1, 'Must not be empty').optional().describe('Namespace of the queue (default: default; an agent\'s: agent:<its id>)');
const key = nonEmpty('The key');

export const stateGetParams = z.object({ key, namespace: stateNamespace });
export const stateSetParams = z.object({
  key,
  value: jsonValue(),
  namespace: stateNamespace,
  ttl_seconds: z.number().positive().optional().describe('Seconds until the key expires'),
  metadata: jsonObject().optional().describe('Free-form metadata kept with the value'),
});
export const stateDeleteParams = z.object({ key, namespace: stateNamespace });
export const stateListParams = z.object({
  namespace: stateNamespace,
  pattern: z.string().optional().describe('Glob over the key within the namespace (* ? [...])'),
});

/** Queues accept `queue_name` or `key` for the queue's name, as the original did. */
const queueRef = {
  queue_name: nonEmpty('Name of the queue').optional(),
  key: nonEmpty('Name of the queue (alias of queue_name)').optional(),
  namespace: queueNamespace,
};
const requireQueueName = <T extends { queue_name?: string; key?: string }>(data: T) =>
  data.queue_name !== undefined || data.key !== undefined;
const queueNameRequired = { message: 'Required (queue_name or key)', path: ['queue_name'] };

export const queueRefParams = z.object(queueRef).refine(requireQueueName, queueNameRequired);
export const queuePushParams = z.object({ ...queueRef, value: jsonValue() }).refine(requireQueueName, queueNameRequired);
export const queueKeysParams = z.object({ namespace: queueNamespace });

const namespaceName = z.string().describe('The namespace the request worked in');
const queueNameField = z.string().describe("The queue's name");
const expiresAt = z.number().optional().describe('Epoch seconds when the key expires; absent when it never does');

export const stateGetResult = z.object({
  value: z.unknown().describe('The value; null when not found'),
  found: z.boolean(),
  namespace: namespaceName,
  key: z.string(),
  expires_at: expiresAt,
});
export const stateSetResult = z.object({ status: z.literal('set'), namespace: namespaceName, key: z.string(), expires_at: expiresAt });
export const stateDeleteResult = z.object({
  status: z.literal('deleted'),
  namespace: namespaceName,
  key: z.string(),
  deleted: z.boolean().describe('Whether the key existed'),
});
export const stateListResult = z.object({ keys: z.array(z.string()), count: z.number(), namespace: namespaceName });
const queueAppended = {
  namespace: namespaceName,
  queue_name: queueNameField,
  position: z.number().describe('Length of the queue after the push'),
};
export const queuePushResult = z.object({ status: z.literal('pushed'), ...queueAppended });
export const queueSetResult = z.object({ status: z.literal('set'), ...queueAppended });
export const queuePopResult = z.object({ value: z.unknown(), found: z.boolean(), namespace: namespaceName, queue_name: queueNameField });
export const queueLengthResult = z.object({ length: z.number(), namespace: namespaceName, queue_name: queueNameField });
export const queueKeysResult = z.object({ keys: z.array(z.string()), count: z.number(), namespace: namespaceName });
export const queueDeleteResult = z.object({
  status: z.literal('deleted'),
  namespace: namespaceName,
  queue_name: queueNameField,
  deleted_count: z.number(),
});

export const stateGet = defineRequest('state:get', {
  summary: 'Read a key; found is false when it is absent or expired',
  params: stateGetParams,
  result: stateGetResult,
});
export const stateSet = defineRequest('state:set', {
  summary: 'Write a key (any JSON value), optionally expiring after ttl_seconds',
  params: stateSetParams,
  result: stateSetResult,
});
export const stateDelete = defineRequest('state:delete', {
  summary: 'Delete a key; deleted says whether it existed',
  params: stateDeleteParams,
  result: stateDeleteResult,
});
export const stateList = defineRequest('state:list', {
  summary: "List a namespace's keys in order, optionally filtered by a glob (* ? [...])",
  params: stateListParams,
  result: stateListResult,
});
export const queuePush = defineRequest('async_state:push', { summary: 'Append a value to a FIFO queue', params: queuePushParams, result: queuePushResult });
export const queueSet = defineRequest('async_state:set', {
  summary: 'Append a value to a FIFO queue (same as async_state:push)',
  params: queuePushParams,
  result: queueSetResult,
});
export const queuePop = defineRequest('async_state:pop', { summary: 'Remove and return the head of a queue', params: queueRefParams, result: queuePopResult });
export const queuePeek = defineRequest('async_state:get', {
  summary: 'Return the head of a queue without removing it',
  params: queueRefParams,
  result: queuePopResult,
});
export const queueLength = defineRequest('async_state:queue_length', {
  summary: 'Number of values in a queue',
  params: queueRefParams,
  result: queueLengthResult,
});
export const queueDelete = defineRequest('async_state:delete', { summary: 'Delete a whole queue', params: queueRefParams, result: queueDeleteResult });
export const queueKeys = defineRequest('async_state:get_keys', {
  summary: 'Names of the non-empty queues in a namespace',
  params: queueKeysParams,
  result: queueKeysResult,
});

export const stateEvents = [stateGet, stateSet, stateDelete, stateList, queuePush, queueSet, queuePop, queuePeek, queueLength, queueDelete, queueKeys] as const;
