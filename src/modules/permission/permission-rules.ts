import picomatch from 'picomatch';
import type { overridesSchema, Permissions, z } from '../../../libs/client/src';
import { CLAUDE_TOOLS, KSI_MCP_TOOLS } from './claude-tools';

export type Overrides = z.output<typeof overridesSchema>;

/** Problems listed one by one up to this many; the rest are counted. */
const LISTED = 5;

/**
 * The tools pre-approved for the agent (`--allowedTools`): the profile's list (all built-in tools
 * when it says null) and its own KSI tools, less what it disallows (names or globs such as `Cron*`).
 */
export function effectiveTools(permissions: Permissions): string[] {
  const allowed = [...new Set([...(permissions.tools.allowed ?? CLAUDE_TOOLS), KSI_MCP_TOOLS])];
  const disallowed = permissions.tools.disallowed;
  const denies = disallowed.length > 0 ? picomatch(disallowed) : () => false;
  return allowed.filter((tool) => !disallowed.includes(tool) && !denies(tool));
}

/** Whether the permissions let an agent send this event: allowed by a glob, and not disallowed. */
export function eventAccess(permissions: Permissions): (event: string) => boolean {
  const allows = picomatch(permissions.events.allowed.length > 0 ? permissions.events.allowed : ['!**']);
  const denies = permissions.events.disallowed.length > 0 ? picomatch(permissions.events.disallowed) : () => false;
  return (event) => allows(event) && !denies(event);
}

/** The profile with its overrides: tools and events added or removed, capabilities set, resources raised, approval rules and message senders added. */
export function applyOverrides(base: Permissions, overrides: Overrides): Permissions {
  const tools = { ...base.tools, disallowed: [...base.tools.disallowed] };
  if (overrides.tools?.allowed_add && tools.allowed !== null) tools.allowed = [...new Set([...tools.allowed, ...overrides.tools.allowed_add])];
  if (overrides.tools?.allowed_remove) {
    tools.allowed = (tools.allowed ?? CLAUDE_TOOLS).filter((tool) => !overrides.tools?.allowed_remove?.includes(tool));
  }
  if (overrides.tools?.disallowed_add) tools.disallowed = [...new Set([...tools.disallowed, ...overrides.tools.disallowed_add])];
  const resources = { ...base.resources };
  for (const [name, value] of Object.entries(overrides.resources ?? {})) resources[name] = Math.max(resources[name] ?? 0, value);
  return {
    ...base,
    tools,
    resources,
    capabilities: { ...base.capabilities, ...overrides.capabilities },
    events: {
      allowed: [...base.events.allowed, ...(overrides.events?.allowed_add ?? [])],
      disallowed: [...base.events.disallowed, ...(overrides.events?.disallowed_add ?? [])],
    },
    approvals: {
      allow: [...base.approvals.allow, ...(overrides.approvals?.allow_add ?? [])],
      deny: [...base.approvals.deny, ...(overrides.approvals?.deny_add ?? [])],
      timeout_seconds: overrides.approvals?.timeout_seconds ?? base.approvals.timeout_seconds,
    },
    messaging: { accept_from: [...new Set([...base.messaging.accept_from, ...(overrides.messaging?.accept_from_add ?? [])])] },
  };
}

/** Why `child` would have more than `parent`, which must also be allowed to spawn agents; empty when neither. */
export function spawnProblems(parent: Permissions, child: Permissions, events: readonly string[]): string[] {
  const problems = parent.capabilities.spawn_agents ? [] : [`the parent (${parent.level}) may not spawn agents`];
  return [...problems, ...rightsBeyond(parent, child, events, 'the parent')];
}

/**
 * What `other` may do that `holder` may not (tools, capabilities, resources, events among `events`,
 * the daemon's event names, approval rules and state namespaces), each said of `holderName`; empty
 * when `holder` has every right `other` has.
 */
export function rightsBeyond(holder: Permissions, other: Permissions, events: readonly string[], holderName: string): string[] {
  const problems: string[] = [];
  const holderTools = new Set(effectiveTools(holder));
  const extraTools = effectiveTools(other).filter((tool) => !holderTools.has(tool));
  if (extraTools.length > 0) problems.push(`tools ${holderName} lacks: ${listed(extraTools)}`);
  const extraCapabilities = Object.entries(other.capabilities).filter(([name, on]) => on && !holder.capabilities[name]).map(([name]) => name);
  if (extraCapabilities.length > 0) problems.push(`capabilities ${holderName} lacks: ${extraCapabilities.join(', ')}`);
  const larger = Object.entries(other.resources).filter(([name, value]) => holder.resources[name] !== undefined && value > holder.resources[name]).map(([name]) => name);
  if (larger.length > 0) problems.push(`resources above ${holderName}'s: ${larger.join(', ')}`);
  const holderMay = eventAccess(holder);
  const otherMay = eventAccess(other);
  const extraEvents = events.filter((event) => otherMay(event) && !holderMay(event));
  if (extraEvents.length > 0) problems.push(`events ${holderName} may not send: ${listed(extraEvents)}`);
  // A rule that approves calls at once is a grant: the holder must have it, or the tool itself.
  const extraApprovals = other.approvals.allow.filter((rule) => !holder.approvals.allow.includes(rule) && !holderTools.has(rule.replace(/\(.*$/s, '')));
  if (extraApprovals.length > 0) problems.push(`approval rules ${holderName} lacks: ${listed(extraApprovals)}`);
  const extraNamespaces = other.state.namespaces.filter((glob) => !holder.state.namespaces.includes(glob));
  if (extraNamespaces.length > 0) problems.push(`state namespaces ${holderName} is not granted: ${extraNamespaces.join(', ')}`);
  return problems;
}

function listed(names: string[]): string {
  return names.length <= LISTED ? names.join(', ') : `${names.slice(0, LISTED).join(', ')} and ${names.length - LISTED} more`;
}
