import { modelParam } from './completion.events';
import { costTotals } from './cost.events';
import { defineInternal, defineRequest } from './definition';
import { workspaceRepository } from './permission.events';
import { jsonObject, safeId, z } from './schema';

const agentId = safeId('The agent');

export const agentSpawnParams = z
  .object({
    profile: z.string().min(1).optional().describe('Composition (profile) to compose'),
    composition: z.string().min(1).optional().describe('Alias of profile; wins when both are given'),
    agent_id: safeId('Id of the new agent (default: generated)').optional(),
    session_id: safeId('Continue this Claude session').optional(),
    context: jsonObject().default({}).describe('Variables for the composition'),
    permission_profile: z.string().optional().describe('Overrides the profile\'s permission_profile'),
    parent_id: safeId('The spawning agent: the child never gets more than it has').optional(),
    sandbox_config: z
      .object({ mode: z.enum(['isolated', 'shared', 'nested']).default('isolated'), session_id: safeId('Shared sandbox of this session').optional(), repository: workspaceRepository.optional() })
      .default({ mode: 'isolated' })
      .describe("The agent's working directory; repository (else the profile's) gives it a worktree of that repository"),
    config: z.object({ model: modelParam.optional().describe('claude-cli/<model>, a bare Claude CLI model name, or anthropic/<model>'), role: z.string().optional(), capabilities: z.array(z.string()).optional() }).default({}).describe('Overrides of the composed profile'),
    spawn_mode: z.enum(['fixed', 'dynamic']).default('fixed').describe('dynamic: pick the profile with composition:select'),
    selection_context: z.object({ role: z.string().optional(), required_capabilities: z.array(z.string()).default([]), task: z.string().optional() }).default({ required_capabilities: [] }),
  })
  .refine((data) => data.profile !== undefined || data.composition !== undefined || data.spawn_mode === 'dynamic', { message: 'Required (profile or composition, or spawn_mode dynamic)', path: ['profile'] });
export const agentIdParams = z.object({ agent_id: agentId });
export const agentTerminateParams = z.object({ agent_id: agentId, force: z.boolean().default(false) });
export const agentListParams = z.object({ status: z.string().optional() });
/** A turn's text: a turn is paid for, so blank text is refused. */
const turnText = (description: string) => z.string().regex(/\S/, 'Must not be empty').optional().describe(description);
/**
 * A message that becomes an agent's turn: its text is `prompt`, else `content`, else `text` (as the
 * agent reads it, src/modules/agent/turn-prompt.ts). Without one the turn would be the message as JSON.
 */
export const turnMessage = z
  .looseObject({
    prompt: turnText("The agent's next turn"),
    content: turnText('The turn, when there is no prompt'),
    text: turnText('The turn, when there is neither prompt nor content'),
  })
  .refine((message) => message.prompt !== undefined || message.content !== undefined || message.text !== undefined, {
    message: "Required (prompt, or content or text): the turn's text",
    path: ['prompt'],
  });
export const agentSendParams = z.object({ agent_id: agentId, message: turnMessage.describe('prompt (else content, else text) is the next turn: one of them is required, and not blank; other fields travel with it') });
export const agentBroadcastParams = z.object({ message: jsonObject(), sender: z.string().default('operator') });
export const agentPeersParams = z.object({ agent_id: agentId.optional(), capabilities: z.array(z.string()).default([]), roles: z.array(z.string()).default([]) });
export const agentInboxParams = z.object({ agent_id: agentId, message: jsonObject() });
export const agentRetryParams = z.object({
  agent_id: agentId,
  message_id: z.number().int().positive().optional().describe('One failed message (default: every failed message of the agent)'),
});
export const agentFindIdleParams = z.object({ capabilities: z.array(z.string()).default([]) });
export const agentResultParams = z.object({
  agent_id: z.string(),
  request_id: z.string(),
  session_id: z.string().nullable(),
  text: z.string(),
  in_reply_to: jsonObject().describe('The message whose turn this is the reply to'),
});

export const noAgentParams = z.object({});
export const identityCreateParams = z.object({ agent_id: agentId.optional(), identity: jsonObject().default({}) });
export const identityUpdateParams = z.object({ agent_id: agentId, updates: jsonObject() });

const agentStatus = z.enum(['initializing', 'idle', 'busy', 'stopped', 'failed', 'budget_exhausted']).describe('budget_exhausted: a budget that applies is spent; its messages wait until the budget is raised or a new period begins');
export type AgentStatus = z.output<typeof agentStatus>;

const failedTurn = z.object({
  message_id: z.number(),
  prompt: z.string().describe('The start of the turn\'s prompt'),
  error: z.string(),
  code: z.string(),
  failed_at: z.number().nullable().describe('Epoch seconds; null for turns that failed before failures were recorded'),
});

/** An agent as agent:list, agent:info and agent:spawn show it. */
const agentSnapshot = z.object({
  agent_id: z.string(),
  status: agentStatus,
  profile: z.string().describe('The composition the agent was composed from'),
  session_id: z.string().nullable().describe('The Claude session its next turn resumes; null before its first reply'),
  model: z.string(),
  role: z.string(),
  capabilities: z.array(z.string()),
  permission_profile: z.string(),
  sandbox: z.string().nullable().describe("The agent's working directory"),
  restarts: z.number().describe('Restarts after failed turns since its last reply'),
  node_id: z.string().nullable().describe('The node that runs its turns (KSI_NODE_ID); null while none holds it'),
  pending_messages: z.number().describe('Messages waiting or running'),
  failed_messages: z.number().describe('Messages whose turn failed; they stay in the inbox until agent:retry (or agent:restart) runs them again'),
  failed_turns: z.array(failedTurn).describe('The newest failed turns (at most 10), newest first'),
  created_at: z.number(),
});
export type AgentInfo = z.output<typeof agentSnapshot>;

const spawnedAgent = agentSnapshot.extend({ token_written_to: z.string().describe("The agent's MCP config, which holds its token") });

/** An identity: the fields it was given, with its agent and its times (epoch seconds). */
const agentIdentity = z.looseObject({ agent_id: z.string(), created_at: z.number(), updated_at: z.number() });
export type AgentIdentity = z.output<typeof agentIdentity>;

export const agentSpawn = defineRequest('agent:spawn', {
  summary: 'Start an agent from a profile: permissions, sandbox, MCP config, durable inbox',
  params: agentSpawnParams,
  result: spawnedAgent,
});
export const agentTerminate = defineRequest('agent:terminate', {
  summary: 'Stop an agent: its running turn is cancelled, its token and sandbox removed',
  params: agentTerminateParams,
  result: z.object({ agent_id: z.string(), status: z.literal('terminated') }),
});
export const agentRestart = defineRequest('agent:restart', {
  summary: 'Terminate and spawn again from the same profile, keeping the session',
  params: agentIdParams,
  result: spawnedAgent,
});
export const agentRetry = defineRequest('agent:retry', {
  summary: "Run an agent's failed messages again (one, or all), before newer ones",
  params: agentRetryParams,
  result: z.object({ agent_id: z.string(), retried: z.array(z.number()).describe('The messages queued again, oldest first') }),
});
export const agentCreateIdentity = defineRequest('agent:create_identity', {
  summary: 'Record who an agent is (name, role, …)',
  params: identityCreateParams,
  result: z.object({ agent_id: z.string(), status: z.literal('created'), identity: agentIdentity }),
});
export const agentUpdateIdentity = defineRequest('agent:update_identity', {
  summary: "Merge fields into an agent's identity",
  params: identityUpdateParams,
  result: z.object({ agent_id: z.string(), status: z.literal('updated'), identity: agentIdentity }),
});
export const agentRemoveIdentity = defineRequest('agent:remove_identity', {
  summary: "Remove an agent's identity",
  params: agentIdParams,
  result: z.object({ agent_id: z.string(), status: z.literal('removed'), existed: z.boolean() }),
});
export const agentGetIdentity = defineRequest('agent:get_identity', {
  summary: "An agent's identity",
  params: agentIdParams,
  result: z.object({ agent_id: z.string(), identity: agentIdentity }),
});
export const agentListIdentities = defineRequest('agent:list_identities', {
  summary: 'Every identity',
  params: noAgentParams,
  result: z.object({ identities: z.array(agentIdentity), count: z.number() }),
});
export const agentList = defineRequest('agent:list', {
  summary: 'Running agents, optionally by status',
  params: agentListParams,
  result: z.object({ agents: z.array(agentSnapshot), count: z.number() }),
});
export const agentInfo = defineRequest('agent:info', {
  summary: "One agent, with what its completions cost and its failed turns; an agent reads only its own and its children's",
  params: agentIdParams,
  result: agentSnapshot.extend({ costs: costTotals.describe('What its completions cost, across its restarts') }),
});
export const agentSendMessage = defineRequest('agent:send_message', {
  summary: "Queue a message for an agent; message.prompt (or content) is the agent's next turn",
  params: agentSendParams,
  result: z.object({ status: z.literal('sent'), agent_id: z.string(), message_id: z.number() }),
});
export const agentBroadcast = defineRequest('agent:broadcast', {
  summary: 'Send a message to every other agent once',
  params: agentBroadcastParams,
  result: z.object({
    status: z.literal('broadcast'),
    agents_reached: z.number(),
    total_agents: z.number().describe('Every agent, the sender and stopped ones included'),
    declined: z.array(z.string()).describe('Running agents left out: the sending agent lacks some of their rights, and their profiles do not take its messages (messaging.accept_from)'),
  }),
});
export const agentDiscoverPeers = defineRequest('agent:discover_peers', {
  summary: 'Other agents, filtered by capabilities (any) and roles',
  params: agentPeersParams,
  result: z.object({
    status: z.literal('success'),
    requesting_agent: z.string().nullable().describe('The agent left out of the peers; null for the operator without agent_id'),
    peers: z.array(agentSnapshot),
    discovered_count: z.number(),
  }),
});
export const agentInbox = defineInternal('agent:inbox', {
  summary: 'A bus message for a managed agent',
  params: agentInboxParams,
  result: z.object({ message_id: z.number() }),
});
export const agentProfile = defineInternal('agent:profile', {
  summary: 'The composed profile an agent runs, so its costs add up by profile, and when it was spawned',
  params: agentIdParams,
  result: z.object({ profile: z.string(), created_at: z.number().describe('When the agent was spawned (epoch seconds)') }),
});
export const agentFindIdle = defineInternal('agent:find_idle', {
  summary: 'An idle agent with these capabilities',
  params: agentFindIdleParams,
  result: z.object({ agent_id: z.string() }).optional().describe('Absent when no idle agent has every capability'),
});
export const agentBridgeConfig = defineInternal('agent:bridge_config', {
  summary: "The agent's MCP config (--mcp-config) on this node, for a turn run here: the one its row names when that file is in this node's var dir, else one written here with a new token",
  params: agentIdParams,
  result: z.object({ path: z.string() }),
});
export const agentAdopted = defineInternal('agent:adopted', {
  summary: "An agent's turns run on this node from now on: adopted at start, or from a node that died or stopped",
  params: z.object({ agent_id: z.string(), node_id: z.string().describe('This node') }),
  result: z.void(),
});
export const agentResult = defineInternal('agent:result', {
  summary: "An agent's reply, for routing",
  params: agentResultParams,
  result: z.void(),
});

/** Every agent event's definition. */
export const agentEvents = [
  agentSpawn,
  agentTerminate,
  agentRestart,
  agentRetry,
  agentCreateIdentity,
  agentUpdateIdentity,
  agentRemoveIdentity,
  agentGetIdentity,
  agentListIdentities,
  agentList,
  agentInfo,
  agentSendMessage,
  agentBroadcast,
  agentDiscoverPeers,
  agentInbox,
  agentProfile,
  agentFindIdle,
  agentBridgeConfig,
  agentAdopted,
  agentResult,
] as const;
