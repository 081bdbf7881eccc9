import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { Database } from 'better-sqlite3';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import picomatch from 'picomatch';
import type { Logger } from 'pino';
import { parse } from 'yaml';
import { permissionsSchema, type overridesSchema, type Permissions, type z } from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { SQLITE } from '../../database/sqlite.provider';
import { WriteQueue } from '../../database/write-queue';
import { EventError } from '../../events/event-error';
import { RequestGuards } from '../../events/request-guard';
import { DAEMON_LOG } from '../../logging/logger';

/** The Claude CLI's tools, for profiles that allow "all" (allowed: null). */
export const BUILTIN_TOOLS = ['Task', 'Bash', 'Glob', 'Grep', 'LS', 'exit_plan_mode', 'Read', 'Edit', 'MultiEdit', 'Write', 'NotebookRead', 'NotebookEdit', 'WebFetch', 'TodoRead', 'TodoWrite', 'WebSearch'];

/** Events an identified agent may always send. */
const ALWAYS_ALLOWED = new Set(['system:identify', 'mcp:session_start']);

type Overrides = z.output<typeof overridesSchema>;
interface AccessRule {
  allows: (event: string) => boolean;
  denies: (event: string) => boolean;
}

/**
 * Permission profiles (YAML under $KSI_LIB_DIR/permissions/profiles), each agent's effective
 * permissions (durable rows), agent tokens (stored hashed), and the check that keeps an identified
 * connection to the events its permissions allow.
 */
@Injectable()
export class PermissionService implements OnModuleInit {
  private profiles = new Map<string, Permissions>();
  private readonly access = new Map<string, AccessRule>();

  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    @Inject(SQLITE) private readonly db: Database,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(DAEMON_LOG) private readonly log: Logger,
    private readonly writes: WriteQueue,
    guards: RequestGuards,
  ) {
    guards.register((event, context) => (context.agentId === undefined ? undefined : this.denial(context.agentId, event)));
  }

  onModuleInit(): void {
    this.loadProfiles();
  }

  loadProfiles(): void {
    const dir = path.join(this.config.libDir, 'permissions', 'profiles');
    const profiles = new Map<string, Permissions>();
    const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((file) => /\.ya?ml$/.test(file)) : [];
    for (const file of files) {
      const parsed = permissionsSchema.safeParse(parse(fs.readFileSync(path.join(dir, file), 'utf8')));
      if (parsed.success) profiles.set(parsed.data.level, parsed.data);
      else this.log.warn({ file, issue: parsed.error.issues[0] }, 'permission profile left out');
    }
    this.profiles = profiles;
  }

  listProfiles(): Record<string, Permissions> {
    return Object.fromEntries(this.profiles);
  }

  profile(level: string): Permissions {
    const profile = this.profiles.get(level);
    if (!profile) throw new EventError('not_found', `Permission profile not found: ${level}. Known: ${[...this.profiles.keys()].join(', ')}`);
    return profile;
  }

  /** Stores an agent's permissions: the profile with its overrides, never more than its parent's. */
  async setAgent(agentId: string, level: string, overrides: Overrides, parentId?: string): Promise<Permissions> {
    const permissions = applyOverrides(this.profile(level), overrides);
    if (parentId) {
      const problems = this.spawnProblems(this.agent(parentId), permissions);
      if (problems.length > 0) throw new EventError('permission_denied', `Agent ${agentId} would get more than its parent ${parentId}: ${problems.join('; ')}`);
    }
    await this.writes.run((db) =>
      db
        .prepare(
          `INSERT INTO agent_permissions (agent_id, level, permissions, parent_id, updated_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (agent_id) DO UPDATE SET level = excluded.level, permissions = excluded.permissions, parent_id = excluded.parent_id, updated_at = excluded.updated_at`,
        )
        .run(agentId, permissions.level, JSON.stringify(permissions), parentId ?? null, this.clock.now()),
    );
    this.access.delete(agentId);
    return permissions;
  }

  agent(agentId: string): Permissions {
    const row = this.db.prepare('SELECT permissions FROM agent_permissions WHERE agent_id = ?').pluck().get(agentId) as string | undefined;
    if (!row) throw new EventError('not_found', `No permissions found for agent: ${agentId}`);
    return JSON.parse(row) as Permissions;
  }

  /** Removes the permissions and the token: a removed agent's token no longer identifies anyone. */
  async removeAgent(agentId: string): Promise<boolean> {
    this.access.delete(agentId);
    return this.writes.run((db) => db.prepare('DELETE FROM agent_permissions WHERE agent_id = ?').run(agentId).changes > 0);
  }

  effectiveTools(permissions: Permissions): string[] {
    const allowed = permissions.tools.allowed ?? BUILTIN_TOOLS;
    return allowed.filter((tool) => !permissions.tools.disallowed.includes(tool));
  }

  /** Why `child` would exceed `parent` (tools, capabilities, resources); empty when it does not. */
  spawnProblems(parent: Permissions, child: Permissions): string[] {
    const problems: string[] = [];
    if (!parent.capabilities.spawn_agents) problems.push(`the parent (${parent.level}) may not spawn agents`);
    const parentTools = new Set(this.effectiveTools(parent));
    const extraTools = this.effectiveTools(child).filter((tool) => !parentTools.has(tool));
    if (extraTools.length > 0) problems.push(`tools the parent lacks: ${extraTools.join(', ')}`);
    const extraCapabilities = Object.entries(child.capabilities).filter(([name, on]) => on && !parent.capabilities[name]).map(([name]) => name);
    if (extraCapabilities.length > 0) problems.push(`capabilities the parent lacks: ${extraCapabilities.join(', ')}`);
    const larger = Object.entries(child.resources).filter(([name, value]) => parent.resources[name] !== undefined && value > parent.resources[name]).map(([name]) => name);
    if (larger.length > 0) problems.push(`resources above the parent's: ${larger.join(', ')}`);
    return problems;
  }

  /** A new random token for the agent; only its hash is kept. */
  async issueToken(agentId: string): Promise<string> {
    this.agent(agentId);
    const token = randomBytes(32).toString('base64url');
    await this.writes.run((db) => db.prepare('UPDATE agent_permissions SET token_hash = ? WHERE agent_id = ?').run(hash(token), agentId));
    return token;
  }

  verifyToken(agentId: string, token: string): boolean {
    const stored = this.db.prepare('SELECT token_hash FROM agent_permissions WHERE agent_id = ?').pluck().get(agentId) as string | null | undefined;
    if (!stored) return false;
    const given = Buffer.from(hash(token), 'hex');
    return timingSafeEqual(given, Buffer.from(stored, 'hex'));
  }

  private denial(agentId: string, event: string): string | undefined {
    if (ALWAYS_ALLOWED.has(event)) return undefined;
    let rule = this.access.get(agentId);
    if (!rule) {
      let permissions: Permissions;
      try {
        permissions = this.agent(agentId);
      } catch {
        return `Agent ${agentId} has no permissions any more`;
      }
      rule = {
        allows: picomatch(permissions.events.allowed.length > 0 ? permissions.events.allowed : ['!**']),
        denies: permissions.events.disallowed.length > 0 ? picomatch(permissions.events.disallowed) : () => false,
      };
      this.access.set(agentId, rule);
    }
    if (rule.allows(event) && !rule.denies(event)) return undefined;
    return `Agent ${agentId} is not allowed to send ${event} (its permission profile does not list it)`;
  }
}

function hash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function applyOverrides(base: Permissions, overrides: Overrides): Permissions {
  const tools = { ...base.tools, disallowed: [...base.tools.disallowed] };
  if (overrides.tools?.allowed_add && tools.allowed !== null) tools.allowed = [...new Set([...tools.allowed, ...overrides.tools.allowed_add])];
  if (overrides.tools?.allowed_remove) {
    tools.allowed = (tools.allowed ?? BUILTIN_TOOLS).filter((tool) => !overrides.tools?.allowed_remove?.includes(tool));
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
  };
}
