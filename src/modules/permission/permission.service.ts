import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import picomatch from 'picomatch';
import type { Logger } from 'pino';
import { permissionReloadProfiles, permissionsSchema, type HandlerResult, type Permissions } from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import type { ClientConnection, EventContext } from '../../events/event-context';
import { EventCatalogue } from '../../events/event-catalogue';
import { EventError } from '../../events/event-error';
import { Handles, type AgentScope } from '../../events/handles.decorator';
import { RequestGuards } from '../../events/request-guard';
import { DAEMON_LOG } from '../../logging/logger';
import { closestName, readLibraryFile } from '../../common/library-file';
import { AgentPermissionRepository, type PermissionRow } from './agent-permission.repository';
import { applyOverrides, eventAccess, rightsBeyond, spawnProblems, type Overrides } from './permission-rules';

/** Events an identified agent may always send: identifying, its MCP bridge, and asking to use a tool (as itself). */
const ALWAYS_ALLOWED = new Set(['system:identify', 'mcp:session_start', 'approval:prompt']);

interface AccessRule {
  permissions: Permissions;
  mayRaise: (event: string) => boolean;
  /** The token a connection must have identified with to act as the agent. */
  tokenHash: string | null;
  /** The profile grants managing (permissions, tokens, sandboxes, bus presence) its own children. */
  managesChildren: boolean;
  /** Whether the profile grants this shared state namespace (the agent's own, agent:<id>, is always its). */
  sharesNamespace: (namespace: string) => boolean;
  sharedNamespaces: string[];
}

/**
 * Permission profiles (YAML under $KSI_LIB_DIR/permissions/profiles), each agent's effective
 * permissions (durable rows), agent tokens (stored hashed), and the check that keeps an identified
 * connection to the events its permissions allow, acting only as itself (or for its own children),
 * and only while the token it identified with is the agent's current one.
 */
@Injectable()
export class PermissionService implements OnModuleInit {
  private profiles = new Map<string, Permissions>();
  /** Why each profile file left out was left out, by the levels it would have been found by. */
  private broken = new Map<string, string>();
  private readonly access = new Map<string, AccessRule>();
  /** The token hash each identified connection presented: a removed or re-issued token ends it. */
  private readonly identifiedWith = new WeakMap<ClientConnection, string>();
  private readonly connectionsOf = new Map<string, Set<ClientConnection>>();
  /**
   * Every agent's row, read once at start and changed only after a write committed: the guard runs
   * before every request of an identified agent and must not wait for the database. Nodes sharing a
   * database announce each change, and the others read the row again (see reloadRow).
   */
  private readonly rows = new Map<string, PermissionRow>();

  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    private readonly stored: AgentPermissionRepository,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(DAEMON_LOG) private readonly log: Logger,
    private readonly catalogue: EventCatalogue,
    guards: RequestGuards,
  ) {
    guards.register((event, context, data) => (context.agentId === undefined ? undefined : this.denial(event, context, data)));
    guards.registerMessagePolicy((sender, recipient, kept) => this.messageRefusal(sender, recipient, kept));
  }

  async onModuleInit(): Promise<void> {
    this.loadProfiles();
    for (const row of await this.stored.all()) this.rows.set(row.agentId, row);
    this.stored.onAnnounced((from, agentId) => {
      if (from !== this.config.node.id) void this.reloadRow(agentId).catch((error: Error) => this.log.warn({ agent_id: agentId, err: error.message }, 'permissions changed on another node not read'));
    });
    this.stored.onSignalsMissed(() => void this.reloadAll().catch((error: Error) => this.log.warn({ err: error.message }, 'permissions not read again after missed signals')));
  }

  /** Changes other nodes announced may have been missed: every agent's row is read again, each just before it is applied. */
  private async reloadAll(): Promise<void> {
    const stored = (await this.stored.all()).map((row) => row.agentId);
    for (const agentId of new Set([...this.rows.keys(), ...stored])) await this.reloadRow(agentId);
  }

  /** Another node changed the agent's row: it is read again, and a new or removed token ends the connections of the old one. */
  private async reloadRow(agentId: string): Promise<void> {
    const row = await this.stored.byId(agentId);
    const before = this.rows.get(agentId);
    if (row) this.rows.set(agentId, row);
    else this.rows.delete(agentId);
    this.access.delete(agentId);
    if (!row || row.tokenHash !== before?.tokenHash) this.revoke(agentId);
  }

  /** The other nodes read the agent's row again. */
  private announce(agentId: string): void {
    void this.stored.announce(this.config.node.id, agentId).catch((error: Error) => this.log.warn({ agent_id: agentId, err: error.message }, 'permission change not announced to the other nodes'));
  }

  /**
   * Reads every profile file again. A broken file (bad YAML, an unknown key) is left out and
   * reported with its path, line and cause, never fatal: one mistake must not stop the daemon.
   */
  @Handles(permissionReloadProfiles)
  loadProfiles(): HandlerResult<typeof permissionReloadProfiles> {
    const dir = path.join(this.config.libDir, 'permissions', 'profiles');
    const profiles = new Map<string, Permissions>();
    const broken = new Map<string, string>();
    const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((file) => /\.ya?ml$/.test(file)) : [];
    for (const file of files.sort()) {
      const read = readLibraryFile(path.join(dir, file), permissionsSchema, 'level');
      if (read.ok) profiles.set(read.value.level, read.value);
      else for (const level of read.broken.names) broken.set(level, read.broken.problem);
    }
    this.profiles = profiles;
    this.broken = broken;
    const problems = [...new Set(broken.values())];
    for (const problem of problems) this.log.warn({ problem }, 'permission profile left out');
    return { profiles: [...profiles.keys()], problems };
  }

  listProfiles(): Record<string, Permissions> {
    return Object.fromEntries(this.profiles);
  }

  profile(level: string): Permissions {
    const profile = this.profiles.get(level);
    if (profile) return profile;
    const broken = this.broken.get(level);
    if (broken) {
      throw new EventError('invalid_permission_profile', `Permission profile ${level} was left out when the profiles were read: ${broken}. Fix the file and send composition:reload`);
    }
    const close = closestName(level, this.profiles.keys());
    throw new EventError('not_found', `Permission profile not found: ${level}.${close === undefined ? '' : ` Did you mean ${close}?`} Known: ${[...this.profiles.keys()].join(', ') || 'none'}`);
  }

  /**
   * Stores an agent's permissions: the profile with its overrides, never more than its parent's.
   * An agent (`actor`) sets them only for its own children: new ones, or ones it spawned before.
   */
  async setAgent(agentId: string, level: string, overrides: Overrides, parentId?: string, actor?: string): Promise<Permissions> {
    if (parentId === agentId) throw new EventError('invalid_params', `parent_id: agent ${agentId} cannot be its own parent`);
    if (actor !== undefined) {
      const existing = this.row(agentId);
      if (parentId !== actor || (existing && existing.parentId !== actor)) {
        throw new EventError('permission_denied', `Agent ${actor} sets permissions only for agents it spawns; ${agentId} is not its child`);
      }
    }
    const permissions = applyOverrides(this.profile(level), overrides);
    if (parentId) {
      const problems = this.spawnProblems(this.agent(parentId), permissions);
      if (problems.length > 0) throw new EventError('permission_denied', `Agent ${agentId} would get more than its parent ${parentId}: ${problems.join('; ')}`);
    }
    const row = { agentId, level: permissions.level, permissions: JSON.stringify(permissions), parentId: parentId ?? null };
    await this.stored.save(row, this.clock.now());
    this.rows.set(agentId, { ...row, tokenHash: this.rows.get(agentId)?.tokenHash ?? null });
    this.access.delete(agentId);
    this.announce(agentId);
    return permissions;
  }

  agent(agentId: string): Permissions {
    const row = this.row(agentId);
    if (!row) throw new EventError('not_found', `No permissions found for agent: ${agentId}`);
    return storedPermissions(row);
  }

  /** The agent that spawned this one; null for one the operator made. */
  parentOf(agentId: string): string | null {
    return this.row(agentId)?.parentId ?? null;
  }

  /** Removes the permissions and the token: a removed agent's token no longer identifies anyone. */
  async removeAgent(agentId: string): Promise<boolean> {
    const removed = await this.stored.delete(agentId);
    this.rows.delete(agentId);
    this.revoke(agentId);
    this.announce(agentId);
    return removed;
  }

  /** Why `child` would exceed `parent`; empty when it does not. */
  spawnProblems(parent: Permissions, child: Permissions): string[] {
    return spawnProblems(parent, child, this.catalogue.eventNames());
  }

  /** A new random token for the agent; only its hash is kept. Connections identified with the old one end. */
  async issueToken(agentId: string): Promise<string> {
    this.agent(agentId);
    const token = randomBytes(32).toString('base64url');
    const tokenHash = hash(token);
    await this.stored.setTokenHash(agentId, tokenHash);
    const row = this.rows.get(agentId);
    if (row) row.tokenHash = tokenHash;
    this.revoke(agentId);
    this.announce(agentId);
    return token;
  }

  /** Checks the token and binds the connection to it: it acts as the agent while that token is current. */
  identify(connection: ClientConnection, agentId: string, token: string): boolean {
    const current = this.row(agentId)?.tokenHash;
    if (!current) return false;
    const given = hash(token);
    if (!timingSafeEqual(Buffer.from(given, 'hex'), Buffer.from(current, 'hex'))) return false;
    this.identifiedWith.set(connection, given);
    let connections = this.connectionsOf.get(agentId);
    if (!connections) this.connectionsOf.set(agentId, (connections = new Set()));
    if (!connections.has(connection)) {
      connections.add(connection);
      connection.onClose(() => this.connectionsOf.get(agentId)?.delete(connection));
    }
    connection.identify(agentId);
    return true;
  }

  private row(agentId: string): PermissionRow | undefined {
    return this.rows.get(agentId);
  }

  /** The agent's permissions or token changed hands: connections identified as it are ended. */
  private revoke(agentId: string): void {
    this.access.delete(agentId);
    for (const connection of this.connectionsOf.get(agentId) ?? []) connection.end();
    this.connectionsOf.delete(agentId);
  }

  private rule(agentId: string): AccessRule | undefined {
    let rule = this.access.get(agentId);
    if (rule) return rule;
    const row = this.row(agentId);
    if (!row) return undefined;
    const permissions = storedPermissions(row);
    rule = {
      permissions,
      mayRaise: eventAccess(permissions),
      tokenHash: row.tokenHash,
      managesChildren: permissions.capabilities.spawn_agents === true,
      sharesNamespace: permissions.state.namespaces.length > 0 ? picomatch(permissions.state.namespaces) : () => false,
      sharedNamespaces: permissions.state.namespaces,
    };
    this.access.set(agentId, rule);
    return rule;
  }

  private denial(event: string, context: EventContext, data: unknown): string | undefined {
    const agentId = context.agentId as string;
    const rule = this.rule(agentId);
    if (!rule) return `Agent ${agentId} has no permissions any more (it was terminated or removed)`;
    if (context.connection && this.identifiedWith.get(context.connection) !== rule.tokenHash) {
      return `Agent ${agentId}'s token was removed or issued again since this connection identified; identify with the current token`;
    }
    if (ALWAYS_ALLOWED.has(event)) return undefined;
    if (!rule.mayRaise(event)) return `Agent ${agentId} is not allowed to send ${event} (its permission profile does not list it)`;
    return data === undefined ? undefined : this.paramDenial(event, agentId, rule, data);
  }

  /**
   * An agent names only itself where it acts, only its own children where it manages agents, and
   * only its own state namespace (agent:<id>) or ones its profile shares.
   */
  private paramDenial(event: string, agentId: string, rule: AccessRule, data: unknown): string | undefined {
    for (const { access } of this.catalogue.handlersOf(event) ?? []) {
      for (const [param, scope] of Object.entries(access.agentParams ?? {})) {
        const named = valueAt(data, param);
        if (typeof named !== 'string') continue;
        if (scope === 'recipient' || scope === 'agent_recipient') {
          const denied = this.messageRefusal(agentId, named, scope === 'agent_recipient');
          if (denied) return denied;
          continue;
        }
        if (this.mayName(agentId, rule, named, scope)) continue;
        if (scope === 'self') return `Agent ${agentId} acts only as itself: ${param} must be ${agentId} (or left out), not ${named}`;
        return `Agent ${agentId} may not name ${named} in ${param} of ${event}: only ${scope === 'child' ? '' : 'itself or '}agents it spawned, and only when its permission profile allows spawn_agents`;
      }
      const namespace = access.namespaceParam === undefined ? undefined : valueAt(data, access.namespaceParam);
      if (typeof namespace === 'string' && namespace !== `agent:${agentId}` && !rule.sharesNamespace(namespace)) {
        const shared = rule.sharedNamespaces.length > 0 ? `the shared ones its permission profile grants: ${rule.sharedNamespaces.join(', ')}` : 'its permission profile shares none';
        return `Agent ${agentId} may not use state namespace ${namespace}: its own is agent:${agentId} (the default); ${shared}`;
      }
    }
    return undefined;
  }

  /**
   * A message may become the recipient's turn, run with the recipient's rights: an agent lacking some
   * of them sends it one only when the recipient's profile takes it (messaging.accept_from). A
   * connected recipient without permissions is a client: what it gets is pushed to its connection.
   * Otherwise (`kept`: the message waits for it, or it is an agent) the message would become a turn
   * run with whatever rights that id is given later.
   */
  private messageRefusal(sender: string, recipient: string, kept: boolean): string | undefined {
    const from = this.rule(sender);
    if (!from || recipient === sender) return undefined;
    const to = this.rule(recipient);
    if (!to) {
      return kept
        ? `Agent ${sender} may not message ${recipient}: ${recipient} has no permissions (no agent has that id, or its permissions were removed), and the message would become a turn run with whatever rights that id is given later. The operator gives it some with permission:set_agent`
        : undefined;
    }
    const lacking = rightsBeyond(from.permissions, to.permissions, this.catalogue.eventNames(), sender);
    if (lacking.length === 0) return undefined;
    const accepted = to.permissions.messaging.accept_from;
    const relation = this.parentOf(sender) === recipient ? 'children' : this.parentOf(recipient) === sender ? 'parent' : 'any';
    if (accepted.includes(relation) || accepted.includes('any')) return undefined;
    const takes = accepted.length > 0 ? `only from its ${accepted.join(' or ')}` : 'from no agent';
    return `Agent ${sender} may not message agent ${recipient}: that agent's turns run with rights ${sender} lacks (${lacking.join('; ')}), and its permission profile (${to.permissions.level}) takes such messages ${takes}. The operator may send the message, or give ${recipient} messaging.accept_from: [${relation}]`;
  }

  private mayName(agentId: string, rule: AccessRule, named: string, scope: AgentScope): boolean {
    if (named === agentId) return scope !== 'child';
    return scope !== 'self' && rule.managesChildren && this.row(named)?.parentId === agentId;
  }
}

/** The value at a dotted path of request data as sent, or undefined. */
function valueAt(data: unknown, dotted: string): unknown {
  let value = data;
  for (const key of dotted.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Permissions as stored; rows written before a section existed get its default. */
function storedPermissions(row: PermissionRow): Permissions {
  return permissionsSchema.parse(JSON.parse(row.permissions));
}

function hash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
