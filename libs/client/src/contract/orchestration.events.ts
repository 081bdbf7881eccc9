import { defineInternal, defineRequest } from './definition';
import { jsonObject, nonEmpty, safeId, z } from './schema';

export const orchestrationStartParams = z.object({ pattern: safeId('A pattern under compositions/orchestrations'), vars: jsonObject().default({}) });
export const orchestrationIdParams = z.object({ orchestration_id: nonEmpty('The instance') });
export const orchestrationStatusParams = z.object({ orchestration_id: z.string().optional() });
export const orchestrationMessageParams = z.object({ orchestration_id: nonEmpty('The instance'), from_agent: nonEmpty('Who speaks'), payload: jsonObject().default({}) });
export const patternParams = z.object({ pattern: safeId('Pattern name') });
export const noOrchestrationParams = z.object({});

const orchestrationId = z.string();
const agentsByName = z.record(z.string(), z.string()).describe("The pattern's agent names and the ids of the agents spawned for them");

/** An instance as orchestration:status and orchestration:terminate show it. */
const orchestrationSummary = z.object({
  orchestration_id: orchestrationId,
  pattern: z.string(),
  state: z.enum(['running', 'terminated']).describe('terminated once its agents are gone'),
  reason: z.string().nullable().describe('Why it ended: rounds, timeout, requested or event:<name>; null while running'),
  agents: agentsByName,
  turn_order: z.array(z.string()).describe('Agent ids in speaking order'),
  turn: z.number().describe('Index in turn_order of the agent whose reply is awaited'),
  rounds: z.number().describe('Rounds after which it ends'),
  message_count: z.number().describe('Replies routed so far'),
  started_at: z.number(),
  ended_at: z.number().nullable(),
  started_by: z.string().nullable().describe('The agent that started it, which may terminate it; null when the operator did'),
});
export type OrchestrationSummary = z.output<typeof orchestrationSummary>;

const transcriptTurn = z.object({ agent_id: z.string(), text: z.string(), at: z.number() });
export type TranscriptTurn = z.output<typeof transcriptTurn>;

/** A pattern file as written (YAML); these are the parts every pattern has. */
const patternDocument = z.looseObject({
  agents: z.record(z.string(), z.unknown()).describe('Agent name → {profile, vars}'),
  coordination: z.looseObject({ turn_order: z.array(z.string()), start: z.string().describe('The first prompt') }),
});
export type PatternDocument = z.output<typeof patternDocument>;

export const orchestrationStart = defineRequest('orchestration:start', {
  summary: 'Start a pattern: spawn its agents and send the first turn',
  params: orchestrationStartParams,
  result: z.object({ orchestration_id: orchestrationId, status: z.literal('started'), agents: z.array(z.string()).describe('The spawned agent ids') }),
});
export const orchestrationMessage = defineRequest('orchestration:message', {
  summary: 'Route a message from an agent as if it replied (strict turns apply)',
  params: orchestrationMessageParams,
  result: z.object({
    status: z.enum(['routed', 'blocked', 'terminated']).describe('blocked: not part of a running instance, or not its turn; terminated: that was the last reply'),
    to: z.string().optional().describe('The agent it was routed to'),
  }),
});
export const orchestrationStatus = defineRequest('orchestration:status', {
  summary: 'One instance (state running|terminated, and why), or all',
  params: orchestrationStatusParams,
  result: z.union([orchestrationSummary, z.object({ orchestrations: z.array(orchestrationSummary) })]),
});
export const orchestrationTerminate = defineRequest('orchestration:terminate', {
  summary: 'Stop an instance and its agents; an agent stops only those it, or an agent it spawned, started',
  params: orchestrationIdParams,
  result: orchestrationSummary,
});
export const orchestrationListPatterns = defineRequest('orchestration:list_patterns', {
  summary: 'The patterns under compositions/orchestrations',
  params: noOrchestrationParams,
  result: z.object({ patterns: z.array(z.string()), patterns_dir: z.string() }),
});
export const orchestrationLoadPattern = defineRequest('orchestration:load_pattern', {
  summary: 'A pattern as written',
  params: patternParams,
  result: z.object({ status: z.literal('loaded'), pattern: patternDocument }),
});
export const orchestrationGetInstance = defineRequest('orchestration:get_instance', {
  summary: 'An instance with its transcript',
  params: orchestrationIdParams,
  result: orchestrationSummary.extend({ transcript: z.array(transcriptTurn).describe('Routed replies, in order') }),
});
export const orchestrationStarted = defineInternal('orchestration:started', {
  summary: 'An instance started: its agents are spawned, its first turn not yet sent',
  params: z.object({ orchestration_id: orchestrationId, pattern: z.string(), agents: agentsByName }),
  result: z.void(),
});
export const orchestrationTerminated = defineInternal('orchestration:terminated', {
  summary: 'An instance ended: its agents are terminated',
  params: z.object({ orchestration_id: orchestrationId, reason: z.string() }),
  result: z.void(),
});

/** Every orchestration event's definition. */
export const orchestrationEvents = [
  orchestrationStart,
  orchestrationMessage,
  orchestrationStatus,
  orchestrationTerminate,
  orchestrationListPatterns,
  orchestrationLoadPattern,
  orchestrationGetInstance,
  orchestrationStarted,
  orchestrationTerminated,
] as const;
