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

export interface StateGetResult {
  value: unknown;
  found: boolean;
  namespace: string;
  key: string;
  expires_at?: number;
}
export interface StateSetResult {
  status: 'set';
  namespace: string;
  key: string;
  expires_at?: number;
}
export interface StateDeleteResult {
  status: 'deleted';
  namespace: string;
  key: string;
  deleted: boolean;
}
export interface StateListResult {
  keys: string[];
  count: number;
  namespace: string;
}
export interface QueuePushResult {
  status: 'pushed' | 'set';
  namespace: string;
  queue_name: string;
  position: number;
}
export interface QueuePopResult {
  value: unknown;
  found: boolean;
  namespace: string;
  queue_name: string;
}
export interface QueueLengthResult {
  length: number;
  namespace: string;
  queue_name: string;
}
export interface QueueKeysResult {
  keys: string[];
  count: number;
  namespace: string;
}
export interface QueueDeleteResult {
  status: 'deleted';
  namespace: string;
  queue_name: string;
  deleted_count: number;
}

export interface StateEvents {
  'state:get': { params: z.input<typeof stateGetParams>; result: StateGetResult };
  'state:set': { params: z.input<typeof stateSetParams>; result: StateSetResult };
  'state:delete': { params: z.input<typeof stateDeleteParams>; result: StateDeleteResult };
  'state:list': { params: z.input<typeof stateListParams>; result: StateListResult };
  'async_state:push': { params: z.input<typeof queuePushParams>; result: QueuePushResult };
  'async_state:set': { params: z.input<typeof queuePushParams>; result: QueuePushResult };
  'async_state:pop': { params: z.input<typeof queueRefParams>; result: QueuePopResult };
  'async_state:get': { params: z.input<typeof queueRefParams>; result: QueuePopResult };
  'async_state:queue_length': { params: z.input<typeof queueRefParams>; result: QueueLengthResult };
  'async_state:delete': { params: z.input<typeof queueRefParams>; result: QueueDeleteResult };
  'async_state:get_keys': { params: z.input<typeof queueKeysParams>; result: QueueKeysResult };
}
