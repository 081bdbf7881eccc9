import { jsonObject, nonEmpty, safeId, z } from './schema';

export const orchestrationStartParams = z.object({ pattern: safeId('A pattern under compositions/orchestrations'), vars: jsonObject().default({}) });
export const orchestrationIdParams = z.object({ orchestration_id: nonEmpty('The instance') });
export const orchestrationStatusParams = z.object({ orchestration_id: z.string().optional() });
export const orchestrationMessageParams = z.object({ orchestration_id: nonEmpty('The instance'), from_agent: nonEmpty('Who speaks'), payload: jsonObject().default({}) });
export const patternParams = z.object({ pattern: safeId('Pattern name') });
export const noOrchestrationParams = z.object({});
export const agentResultParams = z.object({ agent_id: z.string(), request_id: z.string(), session_id: z.string().nullable(), text: z.string() });

/** Every orchestration event's definition. */
export const orchestrationEvents = [] as const;
