import type { z } from './schema';
import { agentEvents } from './agent.events';
import { approvalEvents } from './approval.events';
import { budgetEvents } from './budget.events';
import { clusterEvents } from './cluster.events';
import { completionEvents } from './completion.events';
import { compositionEvents } from './composition.events';
import { conversationEvents } from './conversation.events';
import { costEvents } from './cost.events';
import { lifecycleEvents } from './lifecycle.events';
import { mcpEvents } from './mcp.events';
import { messageEvents } from './message.events';
import { monitorEvents } from './monitor.events';
import { orchestrationEvents } from './orchestration.events';
import { permissionEvents } from './permission.events';
import { stateEvents } from './state.events';
import { systemEvents } from './system.events';

export * from './agent.events';
export * from './approval.events';
export * from './budget.events';
export * from './cluster.events';
export * from './completion.events';
export * from './composition.events';
export * from './conversation.events';
export * from './definition';
export * from './cost.events';
export * from './lifecycle.events';
export * from './mcp.events';
export * from './message.events';
export * from './monitor.events';
export * from './orchestration.events';
export * from './permission.events';
export * from './schema';
export * from './state.events';
export * from './system.events';

/** Every event the daemon knows, one definition each: the catalogue checks its handlers against this list at start. */
export const EVENT_DEFINITIONS = [
  ...stateEvents,
  ...systemEvents,
  ...lifecycleEvents,
  ...agentEvents,
  ...approvalEvents,
  ...budgetEvents,
  ...clusterEvents,
  ...completionEvents,
  ...compositionEvents,
  ...conversationEvents,
  ...costEvents,
  ...mcpEvents,
  ...messageEvents,
  ...monitorEvents,
  ...orchestrationEvents,
  ...permissionEvents,
] as const;

type Definitions = (typeof EVENT_DEFINITIONS)[number];
/** Every external event with its parameters and its result, for typed calls. */
export type KsiEventMap = {
  [D in Extract<Definitions, { kind: 'request' }> as D['name']]: { params: z.input<D['params']>; result: z.output<D['result']> };
};
/** Every push event with its payload, for typed subscriptions. */
export type KsiPushMap = { [D in Extract<Definitions, { kind: 'push' }> as D['name']]: z.output<D['payload']> };
export type KsiPushName = keyof KsiPushMap;

export type KsiEventName = keyof KsiEventMap;
export type ParamsOf<E extends KsiEventName> = KsiEventMap[E]['params'];
export type ResultOf<E extends KsiEventName> = KsiEventMap[E]['result'];
