import { jsonObject, nonEmpty, safeId, z } from './schema';

const agentId = safeId('The agent');

/** A permission profile (var/lib/permissions/profiles/<level>.yaml) or an agent's effective permissions. */
export const permissionsSchema = z.object({
  level: z.string(),
  description: z.string().optional(),
  tools: z.object({ allowed: z.array(z.string()).nullable().default(null), disallowed: z.array(z.string()).default([]) }),
  filesystem: jsonObject().default({}),
  resources: z.record(z.string(), z.number()).default({}),
  capabilities: z.record(z.string(), z.boolean()).default({}),
  events: z.object({ allowed: z.array(z.string()).default([]), disallowed: z.array(z.string()).default([]) }).default({ allowed: [], disallowed: [] }),
  /** Shared state namespaces (globs) besides the agent's own, agent:<id>. */
  state: z.object({ namespaces: z.array(z.string()).default([]) }).default({ namespaces: [] }),
});
export type Permissions = z.output<typeof permissionsSchema>;

export const overridesSchema = z
  .object({
    tools: z.object({ allowed_add: z.array(z.string()), allowed_remove: z.array(z.string()), disallowed_add: z.array(z.string()) }).partial(),
    capabilities: z.record(z.string(), z.boolean()),
    resources: z.record(z.string(), z.number()),
    events: z.object({ allowed_add: z.array(z.string()), disallowed_add: z.array(z.string()) }).partial(),
  })
  .partial();

export const levelParams = z.object({ level: nonEmpty('A permission profile: restricted, standard, trusted, researcher, …') });
export const setAgentParams = z.object({
  agent_id: agentId,
  profile: z.string().default('restricted').describe('The profile to start from'),
  overrides: overridesSchema.default({}),
  parent_id: safeId('The spawning agent: the child never gets more than it has').optional(),
});
export const agentParams = z.object({ agent_id: agentId });
export const validateSpawnParams = z.object({
  parent_id: agentId,
  child_profile: z.string().optional(),
  child_permissions: permissionsSchema.optional(),
});
export const identifyParams = z.object({ agent_id: agentId, token: nonEmpty('The token issued at spawn') });
/** A repository an agent's workspace is a worktree of (isolated sandboxes), on the branch ksi/<agent_id>. */
export const workspaceRepository = z.string().min(1).describe('Absolute path of a git repository: the workspace becomes its worktree on the branch ksi/<agent_id> (isolated mode)');
export const sandboxCreateParams = z.object({
  agent_id: agentId,
  config: z
    .object({
      mode: z.enum(['isolated', 'shared', 'nested']).default('isolated'),
      parent_agent_id: safeId('The agent whose sandbox this one nests in (mode nested)').optional(),
      session_id: safeId('The session whose sandbox this one shares (mode shared)').optional(),
      repository: workspaceRepository.optional(),
    })
    .default({ mode: 'isolated' }),
});
export const sandboxRemoveParams = z.object({ agent_id: agentId, force: z.boolean().default(false) });
export const noPermissionParams = z.object({});

export interface SandboxInfo {
  agent_id: string;
  path: string;
  workspace: string;
  mode: 'isolated' | 'shared' | 'nested';
  parent_agent_id: string | null;
  session_id: string | null;
  created_at: number;
}

export interface PermissionEvents {
  'permission:list_profiles': { params: z.input<typeof noPermissionParams>; result: { profiles: Record<string, Permissions> } };
  'permission:get_profile': { params: z.input<typeof levelParams>; result: { profile: Permissions } };
  'permission:set_agent': { params: z.input<typeof setAgentParams>; result: { agent_id: string; permissions: Permissions; effective_tools: string[] } };
  'permission:get_agent': { params: z.input<typeof agentParams>; result: { agent_id: string; permissions: Permissions; effective_tools: string[] } };
  'permission:issue_token': { params: z.input<typeof agentParams>; result: { agent_id: string; token: string } };
  'system:identify': { params: z.input<typeof identifyParams>; result: { agent_id: string; identified: true; level: string } };
  'sandbox:create': { params: z.input<typeof sandboxCreateParams>; result: { agent_id: string; sandbox: SandboxInfo } };
  'sandbox:get': { params: z.input<typeof agentParams>; result: { agent_id: string; sandbox: SandboxInfo } };
}

/** Every permission event's definition. */
export const permissionEvents = [] as const;
