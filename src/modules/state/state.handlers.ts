import { Injectable } from '@nestjs/common';
import {
  queueKeysParams,
  queuePushParams,
  queueRefParams,
  stateDeleteParams,
  stateGetParams,
  stateListParams,
  stateSetParams,
  type QueueDeleteResult,
  type QueueKeysResult,
  type QueueLengthResult,
  type QueuePopResult,
  type QueuePushResult,
  type StateDeleteResult,
  type StateGetResult,
  type StateListResult,
  type StateSetResult,
  type z,
} from '../../../libs/client/src';
import type { EventContext } from '../../events/event-context';
import { Handles } from '../../events/handles.decorator';
import { StateService } from './state.service';

type QueueRef = z.output<typeof queueRefParams>;
const queueName = (data: QueueRef) => (data.queue_name ?? data.key) as string;
/** An identified agent works in its own namespace unless it names one (the permission guard checks which). */
const namespaceFor = (given: string | undefined, context: EventContext, operatorDefault: string) =>
  given ?? (context.agentId === undefined ? operatorDefault : `agent:${context.agentId}`);
const keyNamespace = (given: string | undefined, context: EventContext) => namespaceFor(given, context, 'global');
const queueNamespace = (given: string | undefined, context: EventContext) => namespaceFor(given, context, 'default');
const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

@Injectable()
export class StateHandlers {
  constructor(private readonly state: StateService) {}

  @Handles('state:get', { summary: 'Read a key; found is false when it is absent or expired', params: stateGetParams, namespaceParam: 'namespace' })
  get({ key, namespace: given }: z.output<typeof stateGetParams>, context: EventContext): StateGetResult {
    const namespace = keyNamespace(given, context);
    const { found, value, expiresAt } = this.state.get(namespace, key);
    return { value, found, namespace, key, ...(expiresAt !== undefined && { expires_at: seconds(expiresAt) }) };
  }

  @Handles('state:set', { summary: 'Write a key (any JSON value), optionally expiring after ttl_seconds', params: stateSetParams, namespaceParam: 'namespace' })
  async set({ key, value, namespace: given, ttl_seconds, metadata }: z.output<typeof stateSetParams>, context: EventContext): Promise<StateSetResult> {
    const namespace = keyNamespace(given, context);
    const expiresAt = await this.state.set(namespace, key, value, ttl_seconds, metadata);
    return { status: 'set', namespace, key, ...(expiresAt !== undefined && { expires_at: seconds(expiresAt) }) };
  }

  @Handles('state:delete', { summary: 'Delete a key; deleted says whether it existed', params: stateDeleteParams, namespaceParam: 'namespace' })
  async delete({ key, namespace: given }: z.output<typeof stateDeleteParams>, context: EventContext): Promise<StateDeleteResult> {
    const namespace = keyNamespace(given, context);
    const deleted = await this.state.delete(namespace, key);
    return { status: 'deleted', namespace, key, deleted };
  }

  @Handles('state:list', { summary: "List a namespace's keys in order, optionally filtered by a glob (* ? [...])", params: stateListParams, namespaceParam: 'namespace' })
  list({ namespace: given, pattern }: z.output<typeof stateListParams>, context: EventContext): StateListResult {
    const namespace = keyNamespace(given, context);
    const keys = this.state.list(namespace, pattern);
    return { keys, count: keys.length, namespace };
  }

  @Handles('async_state:push', { summary: 'Append a value to a FIFO queue', params: queuePushParams, namespaceParam: 'namespace' })
  async push(data: z.output<typeof queuePushParams>, context: EventContext): Promise<QueuePushResult> {
    const name = queueName(data);
    const namespace = queueNamespace(data.namespace, context);
    const position = await this.state.push(namespace, name, data.value);
    return { status: 'pushed', namespace, queue_name: name, position };
  }

  @Handles('async_state:set', { summary: 'Append a value to a FIFO queue (same as async_state:push)', params: queuePushParams, namespaceParam: 'namespace' })
  async append(data: z.output<typeof queuePushParams>, context: EventContext): Promise<QueuePushResult> {
    return { ...(await this.push(data, context)), status: 'set' };
  }

  @Handles('async_state:pop', { summary: 'Remove and return the head of a queue', params: queueRefParams, namespaceParam: 'namespace' })
  async pop(data: QueueRef, context: EventContext): Promise<QueuePopResult> {
    const name = queueName(data);
    const namespace = queueNamespace(data.namespace, context);
    const { found, value } = await this.state.pop(namespace, name);
    return { value, found, namespace, queue_name: name };
  }

  @Handles('async_state:get', { summary: 'Return the head of a queue without removing it', params: queueRefParams, namespaceParam: 'namespace' })
  peek(data: QueueRef, context: EventContext): QueuePopResult {
    const name = queueName(data);
    const namespace = queueNamespace(data.namespace, context);
    const { found, value } = this.state.peek(namespace, name);
    return { value, found, namespace, queue_name: name };
  }

  @Handles('async_state:queue_length', { summary: 'Number of values in a queue', params: queueRefParams, namespaceParam: 'namespace' })
  length(data: QueueRef, context: EventContext): QueueLengthResult {
    const name = queueName(data);
    const namespace = queueNamespace(data.namespace, context);
    return { length: this.state.length(namespace, name), namespace, queue_name: name };
  }

  @Handles('async_state:delete', { summary: 'Delete a whole queue', params: queueRefParams, namespaceParam: 'namespace' })
  async deleteQueue(data: QueueRef, context: EventContext): Promise<QueueDeleteResult> {
    const name = queueName(data);
    const namespace = queueNamespace(data.namespace, context);
    const deleted = await this.state.deleteQueue(namespace, name);
    return { status: 'deleted', namespace, queue_name: name, deleted_count: deleted };
  }

  @Handles('async_state:get_keys', { summary: 'Names of the non-empty queues in a namespace', params: queueKeysParams, namespaceParam: 'namespace' })
  keys({ namespace: given }: z.output<typeof queueKeysParams>, context: EventContext): QueueKeysResult {
    const namespace = queueNamespace(given, context);
    const keys = this.state.queues(namespace);
    return { keys, count: keys.length, namespace };
  }
}
