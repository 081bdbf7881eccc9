import { defineInternal, defineRequest } from './definition';
import { jsonObject, nonEmpty, safeId, z } from './schema';

const agentId = safeId('The agent');

/** Senders by their relation to the recipient: the agent that spawned it, those it spawned, or any agent. */
const messageSenders = z.enum(['parent', 'children', 'any']);

/**
 * A permission profile (var/lib/permissions/profiles/<level>.yaml) or an agent's effective permissions.
 * Strict: a mistyped key (`allowd:`) is an error, never a section left at its default.
 */
export const permissionsSchema = z.strictObject({
  level: z.string(),
  description: z.string().optional(),
  tools: z.strictObject({ allowed: z.array(z.string()).nullable().default(null), disallowed: z.array(z.string()).default([]) }),
  filesystem: jsonObject().default({}),
  resources: z.record(z.string(), z.number()).default({}),
  capabilities: z.record(z.string(), z.boolean()).default({}),
  events: z.strictObject({ allowed: z.array(z.string()).default([]), disallowed: z.array(z.string()).default([]) }).default({ allowed: [], disallowed: [] }),
  /** Shared state namespaces (globs) besides the agent's own, agent:<id>. */
  state: z.strictObject({ namespaces: z.array(z.string()).default([]) }).default({ namespaces: [] }),
  /**
   * Tool calls outside `tools.allowed`, as the CLI asks through its permission prompt tool: `deny`
   * rules first, then `allow`; what neither matches waits for a person (or the parent) up to
   * `timeout_seconds`, then is denied. A rule is a tool name (`WebFetch`, `mcp__*`) or
   * `Tool(argument glob)`, e.g. `Bash(git status*)`, `Read(/srv/data/*)`; `*` matches anything.
   */
  approvals: z
    .strictObject({
      allow: z.array(z.string()).default([]),
      deny: z.array(z.string()).default([]),
      timeout_seconds: z.number().positive().default(600),
    })
    .default({ allow: [], deny: [], timeout_seconds: 600 }),
  /**
   * Whose messages (agent:send_message, a DIRECT_MESSAGE or TASK_ASSIGNMENT, agent:broadcast) an agent
   * lacking some of this agent's rights may send it: they would become its turns, run with its rights.
   * The operator, and agents holding every right it has, always may.
   */
  messaging: z.strictObject({ accept_from: z.array(messageSenders).default([]) }).default({ accept_from: [] }),
});
export type Permissions = z.output<typeof permissionsSchema>;

export const overridesSchema = z
  .object({
    tools: z.object({ allowed_add: z.array(z.string()), allowed_remove: z.array(z.string()), disallowed_add: z.array(z.string()) }).partial(),
    capabilities: z.record(z.string(), z.boolean()),
    resources: z.record(z.string(), z.number()),
    events: z.object({ allowed_add: z.array(z.string()), disallowed_add: z.array(z.string()) }).partial(),
    approvals: z.object({ allow_add: z.array(z.string()), deny_add: z.array(z.string()), timeout_seconds: z.number().positive() }).partial(),
    messaging: z.object({ accept_from_add: z.array(messageSenders) }).partial(),
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

const agentPermissions = z.object({
  agent_id: z.string(),
  parent_id: z.string().nullable().describe('The agent that spawned it'),
  permissions: permissionsSchema,
  effective_tools: z.array(z.string()).describe('The tools pre-approved for the agent (--allowedTools)'),
});

export const sandboxInfo = z.object({
  agent_id: z.string(),
  path: z.string().describe('The sandbox folder (workspace, shared, exports, .claude)'),
  workspace: z.string().describe('Where the agent works: a git repository of its own, or a worktree on the branch ksi/<agent_id>'),
  mode: z.enum(['isolated', 'shared', 'nested']),
  parent_agent_id: z.string().nullable(),
  session_id: z.string().nullable(),
  created_at: z.number().describe('Epoch seconds'),
});
export type SandboxInfo = z.output<typeof sandboxInfo>;
const agentSandbox = z.object({ agent_id: z.string(), sandbox: sandboxInfo });

export const permissionListProfiles = defineRequest('permission:list_profiles', {
  summary: 'The permission profiles and what each allows',
  params: noPermissionParams,
  result: z.object({ profiles: z.record(z.string(), permissionsSchema).describe('Each profile by its level') }),
});
export const permissionGetProfile = defineRequest('permission:get_profile', {
  summary: 'One permission profile',
  params: levelParams,
  result: z.object({ profile: permissionsSchema }),
});
export const permissionSetAgent = defineRequest('permission:set_agent', {
  summary: "Set an agent's permissions from a profile with overrides (never above its parent's); an agent sets them only for its own children",
  params: setAgentParams,
  result: agentPermissions,
});
export const permissionGetAgent = defineRequest('permission:get_agent', {
  summary: "An agent's effective permissions and tools",
  params: agentParams,
  result: agentPermissions,
});
export const permissionRemoveAgent = defineRequest('permission:remove_agent', {
  summary: "Remove an agent's permissions and its token; its identified connections end",
  params: agentParams,
  result: z.object({ agent_id: z.string(), status: z.literal('removed'), existed: z.boolean().describe('Whether the agent had permissions') }),
});
export const permissionValidateSpawn = defineRequest('permission:validate_spawn', {
  summary: 'Whether a parent may spawn a child with these permissions',
  params: validateSpawnParams,
  result: z.object({ valid: z.boolean(), parent_id: z.string(), problems: z.array(z.string()).describe('Where the child would get more than its parent') }),
});
export const permissionReloadProfiles = defineInternal('permission:reload_profiles', {
  summary: 'Read the permission profiles from disk again (composition:reload asks for it)',
  params: noPermissionParams,
  result: z.object({
    profiles: z.array(z.string()).describe('The levels loaded'),
    problems: z.array(z.string()).describe('Profile files left out, and why'),
  }),
});
export const permissionIssueToken = defineRequest('permission:issue_token', {
  summary: 'A new token with which a process identifies as the agent (system:identify); connections identified with the old one end',
  params: agentParams,
  result: z.object({ agent_id: z.string(), token: z.string() }),
});
export const permissionTokenIssued = defineInternal('permission:token_issued', {
  summary: "An agent's token was issued: whoever hands it to the agent's processes (its MCP config) writes the new one",
  params: z.object({ agent_id: z.string(), token: z.string() }),
  result: z.void(),
});
export const systemIdentify = defineRequest('system:identify', {
  summary: "Identify this connection as an agent; from then on the agent's permissions apply",
  params: identifyParams,
  result: z.object({ agent_id: z.string(), identified: z.literal(true), level: z.string().describe("The agent's permission profile") }),
});
export const sandboxCreate = defineRequest('sandbox:create', {
  summary:
    'Create (or return) an agent sandbox: isolated, shared by session, or nested; its workspace is a git repository of its own, or a worktree of `repository` on the branch ksi/<agent_id>',
  params: sandboxCreateParams,
  result: agentSandbox,
});
export const sandboxGet = defineRequest('sandbox:get', { summary: "An agent's sandbox", params: agentParams, result: agentSandbox });
export const sandboxRemove = defineRequest('sandbox:remove', {
  summary: "Delete an agent's sandbox (nested children need force)",
  params: sandboxRemoveParams,
  result: z.object({ agent_id: z.string(), removed: z.boolean().describe('Whether the agent had a sandbox') }),
});
export const sandboxList = defineRequest('sandbox:list', {
  summary: 'Every sandbox',
  params: noPermissionParams,
  result: z.object({ sandboxes: z.array(sandboxInfo), count: z.number() }),
});
export const sandboxStats = defineRequest('sandbox:stats', {
  summary: 'Sandboxes by mode',
  params: noPermissionParams,
  result: z.object({ stats: z.object({ total_sandboxes: z.number(), isolated: z.number(), shared: z.number(), nested: z.number() }) }),
});

/** Every permission event's definition. */
export const permissionEvents = [
  permissionListProfiles,
  permissionGetProfile,
  permissionSetAgent,
  permissionGetAgent,
  permissionRemoveAgent,
  permissionValidateSpawn,
  permissionReloadProfiles,
  permissionIssueToken,
  permissionTokenIssued,
  systemIdentify,
  sandboxCreate,
  sandboxGet,
  sandboxRemove,
  sandboxList,
  sandboxStats,
] as const;
