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
import { Handles } from '../../events/handles.decorator';
import { StateService } from './state.service';

type QueueRef = z.output<typeof queueRefParams>;
const queueName = (data: QueueRef) => (data.queue_name ?? data.key) as string;
const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

@Injectable()
export class StateHandlers {
  constructor(private readonly state: StateService) {}

  @Handles('state:get', { summary: 'Read a key; found is false when it is absent or expired', params: stateGetParams })
  get({ key, namespace }: z.output<typeof stateGetParams>): StateGetResult {
    const { found, value, expiresAt } = this.state.get(namespace, key);
    return { value, found, namespace, key, ...(expiresAt !== undefined && { expires_at: seconds(expiresAt) }) };
  }

  @Handles('state:set', { summary: 'Write a key (any JSON value), optionally expiring after ttl_seconds', params: stateSetParams })
  async set({ key, value, namespace, ttl_seconds, metadata }: z.output<typeof stateSetParams>): Promise<StateSetResult> {
    const expiresAt = await this.state.set(namespace, key, value, ttl_seconds, metadata);
    return { status: 'set', namespace, key, ...(expiresAt !== undefined && { expires_at: seconds(expiresAt) }) };
  }

  @Handles('state:delete', { summary: 'Delete a key; deleted says whether it existed', params: stateDeleteParams })
  async delete({ key, namespace }: z.output<typeof stateDeleteParams>): Promise<StateDeleteResult> {
    const deleted = await this.state.delete(namespace, key);
    return { status: 'deleted', namespace, key, deleted };
  }

  @Handles('state:list', { summary: "List a namespace's keys in order, optionally filtered by a glob (* ? [...])", params: stateListParams })
  list({ namespace, pattern }: z.output<typeof stateListParams>): StateListResult {
    const keys = this.state.list(namespace, pattern);
    return { keys, count: keys.length, namespace };
  }

  @Handles('async_state:push', { summary: 'Append a value to a FIFO queue', params: queuePushParams })
  async push(data: z.output<typeof queuePushParams>): Promise<QueuePushResult> {
    const name = queueName(data);
    const position = await this.state.push(data.namespace, name, data.value);
    return { status: 'pushed', namespace: data.namespace, queue_name: name, position };
  }

  @Handles('async_state:set', { summary: 'Append a value to a FIFO queue (same as async_state:push)', params: queuePushParams })
  async append(data: z.output<typeof queuePushParams>): Promise<QueuePushResult> {
    return { ...(await this.push(data)), status: 'set' };
  }

  @Handles('async_state:pop', { summary: 'Remove and return the head of a queue', params: queueRefParams })
  async pop(data: QueueRef): Promise<QueuePopResult> {
    const name = queueName(data);
    const { found, value } = await this.state.pop(data.namespace, name);
    return { value, found, namespace: data.namespace, queue_name: name };
  }

  @Handles('async_state:get', { summary: 'Return the head of a queue without removing it', params: queueRefParams })
  peek(data: QueueRef): QueuePopResult {
    const name = queueName(data);
    const { found, value } = this.state.peek(data.namespace, name);
    return { value, found, namespace: data.namespace, queue_name: name };
  }

  @Handles('async_state:queue_length', { summary: 'Number of values in a queue', params: queueRefParams })
  length(data: QueueRef): QueueLengthResult {
    const name = queueName(data);
    return { length: this.state.length(data.namespace, name), namespace: data.namespace, queue_name: name };
  }

  @Handles('async_state:delete', { summary: 'Delete a whole queue', params: queueRefParams })
  async deleteQueue(data: QueueRef): Promise<QueueDeleteResult> {
    const name = queueName(data);
    const deleted = await this.state.deleteQueue(data.namespace, name);
    return { status: 'deleted', namespace: data.namespace, queue_name: name, deleted_count: deleted };
  }

  @Handles('async_state:get_keys', { summary: 'Names of the non-empty queues in a namespace', params: queueKeysParams })
  keys({ namespace }: z.output<typeof queueKeysParams>): QueueKeysResult {
    const keys = this.state.queues(namespace);
    return { keys, count: keys.length, namespace };
  }
}
