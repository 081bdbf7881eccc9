import { modelParam } from './completion.events';
import type { CostTotals } from './cost.events';
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
export const agentSendParams = z.object({ agent_id: agentId, message: jsonObject().describe('prompt (or content) is the next turn') });
export const agentBroadcastParams = z.object({ message: jsonObject(), sender: z.string().default('operator') });
export const agentPeersParams = z.object({ agent_id: agentId.optional(), capabilities: z.array(z.string()).default([]), roles: z.array(z.string()).default([]) });
export const agentInboxParams = z.object({ agent_id: agentId, message: jsonObject() });
export const agentRetryParams = z.object({
  agent_id: agentId,
  message_id: z.number().int().positive().optional().describe('One failed message (default: every failed message of the agent)'),
});
export const agentFindIdleParams = z.object({ capabilities: z.array(z.string()).default([]) });

export const noAgentParams = z.object({});
export const identityCreateParams = z.object({ agent_id: agentId.optional(), identity: jsonObject().default({}) });
export const identityUpdateParams = z.object({ agent_id: agentId, updates: jsonObject() });

export type AgentStatus = 'initializing' | 'idle' | 'busy' | 'stopped' | 'failed';

export interface AgentInfo {
  agent_id: string;
  status: AgentStatus;
  profile: string;
  session_id: string | null;
  model: string;
  role: string;
  capabilities: string[];
  permission_profile: string;
  sandbox: string | null;
  restarts: number;
  pending_messages: number;
  /** Messages whose turn failed; they stay in the inbox until agent:retry (or agent:restart) runs them again. */
  failed_messages: number;
  /** The newest failed turns (at most 10), newest first. */
  failed_turns: FailedTurn[];
  created_at: number;
}

export interface FailedTurn {
  message_id: number;
  prompt: string;
  error: string;
  code: string;
  /** Null for turns that failed before failures were recorded. */
  failed_at: number | null;
}

export interface AgentEvents {
  'agent:spawn': { params: z.input<typeof agentSpawnParams>; result: AgentInfo & { token_written_to: string } };
  'agent:list': { params: z.input<typeof agentListParams>; result: { agents: AgentInfo[]; count: number } };
  'agent:info': { params: z.input<typeof agentIdParams>; result: AgentInfo & { costs: CostTotals } };
  'agent:send_message': { params: z.input<typeof agentSendParams>; result: { status: 'sent'; agent_id: string; message_id: number } };
  'agent:terminate': { params: z.input<typeof agentTerminateParams>; result: { agent_id: string; status: 'terminated' } };
  'agent:retry': { params: z.input<typeof agentRetryParams>; result: { agent_id: string; retried: number[] } };
}

/** Every agent event's definition. */
export const agentEvents = [] as const;
