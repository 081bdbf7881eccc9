import { Injectable } from '@nestjs/common';
import {
  queueDelete,
  queueKeys,
  queueLength,
  queuePeek,
  queuePop,
  queuePush,
  queueSet,
  stateDelete,
  stateGet,
  stateList,
  stateSet,
  type HandlerResult,
  type ParamsOut,
} from '../../../libs/client/src';
import type { EventContext } from '../../events/event-context';
import { Handles, type AccessRules, type HandlerOptions } from '../../events/handles.decorator';
import { StateService, type Found } from './state.service';

type QueueRef = ParamsOut<typeof queuePop>;
/** Every state event names its namespace in `namespace`. */
const inNamespace: AccessRules = { namespaceParam: 'namespace' };
/** state:set and state:delete only queue their write: a pipelining client's next lines run while it commits. */
const writeInNamespace: HandlerOptions = { ...inNamespace, writesInOrder: true };
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

  @Handles(stateGet, inNamespace)
  get({ key, namespace: given }: ParamsOut<typeof stateGet>, context: EventContext): HandlerResult<typeof stateGet> | Promise<HandlerResult<typeof stateGet>> {
    const namespace = keyNamespace(given, context);
    const reply = ({ found, value, expiresAt }: Found): HandlerResult<typeof stateGet> => ({
      value,
      found,
      namespace,
      key,
      ...(expiresAt !== undefined && { expires_at: seconds(expiresAt) }),
    });
    const found = this.state.get(namespace, key);
    return found instanceof Promise ? found.then(reply) : reply(found);
  }

  /** Without async/await: on the hottest write, each promise less is measurable. */
  @Handles(stateSet, writeInNamespace)
  set({ key, value, namespace: given, ttl_seconds, metadata }: ParamsOut<typeof stateSet>, context: EventContext): Promise<HandlerResult<typeof stateSet>> {
    const namespace = keyNamespace(given, context);
    return this.state
      .set(namespace, key, value, ttl_seconds, metadata)
      .then((expiresAt) => ({ status: 'set', namespace, key, ...(expiresAt !== undefined && { expires_at: seconds(expiresAt) }) }));
  }

  @Handles(stateDelete, writeInNamespace)
  async delete({ key, namespace: given }: ParamsOut<typeof stateDelete>, context: EventContext): Promise<HandlerResult<typeof stateDelete>> {
    const namespace = keyNamespace(given, context);
    const deleted = await this.state.delete(namespace, key);
    return { status: 'deleted', namespace, key, deleted };
  }

  @Handles(stateList, inNamespace)
  async list({ namespace: given, pattern }: ParamsOut<typeof stateList>, context: EventContext): Promise<HandlerResult<typeof stateList>> {
    const namespace = keyNamespace(given, context);
    const keys = await this.state.list(namespace, pattern);
    return { keys, count: keys.length, namespace };
  }

  @Handles(queuePush, inNamespace)
  async push(data: ParamsOut<typeof queuePush>, context: EventContext): Promise<HandlerResult<typeof queuePush>> {
    const name = queueName(data);
    const namespace = queueNamespace(data.namespace, context);
    const position = await this.state.push(namespace, name, data.value);
    return { status: 'pushed', namespace, queue_name: name, position };
  }

  @Handles(queueSet, inNamespace)
  async append(data: ParamsOut<typeof queueSet>, context: EventContext): Promise<HandlerResult<typeof queueSet>> {
    return { ...(await this.push(data, context)), status: 'set' };
  }

  @Handles(queuePop, inNamespace)
  async pop(data: QueueRef, context: EventContext): Promise<HandlerResult<typeof queuePop>> {
    const name = queueName(data);
    const namespace = queueNamespace(data.namespace, context);
    const { found, value } = await this.state.pop(namespace, name);
    return { value, found, namespace, queue_name: name };
  }

  @Handles(queuePeek, inNamespace)
  async peek(data: QueueRef, context: EventContext): Promise<HandlerResult<typeof queuePeek>> {
    const name = queueName(data);
    const namespace = queueNamespace(data.namespace, context);
    const { found, value } = await this.state.peek(namespace, name);
    return { value, found, namespace, queue_name: name };
  }

  @Handles(queueLength, inNamespace)
  async length(data: QueueRef, context: EventContext): Promise<HandlerResult<typeof queueLength>> {
    const name = queueName(data);
    const namespace = queueNamespace(data.namespace, context);
    return { length: await this.state.length(namespace, name), namespace, queue_name: name };
  }

  @Handles(queueDelete, inNamespace)
  async deleteQueue(data: QueueRef, context: EventContext): Promise<HandlerResult<typeof queueDelete>> {
    const name = queueName(data);
    const namespace = queueNamespace(data.namespace, context);
    const deleted = await this.state.deleteQueue(namespace, name);
    return { status: 'deleted', namespace, queue_name: name, deleted_count: deleted };
  }

  @Handles(queueKeys, inNamespace)
  async keys({ namespace: given }: ParamsOut<typeof queueKeys>, context: EventContext): Promise<HandlerResult<typeof queueKeys>> {
    const namespace = queueNamespace(given, context);
    const keys = await this.state.queues(namespace);
    return { keys, count: keys.length, namespace };
  }
}
