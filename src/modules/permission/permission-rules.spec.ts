import { permissionsSchema, type Permissions } from '../../../libs/client/src';
import { CLAUDE_TOOLS } from './claude-tools';
import { applyOverrides, effectiveTools, eventAccess, spawnProblems } from './permission-rules';

const profile = (fields: Record<string, unknown>): Permissions => permissionsSchema.parse({ level: 'test', tools: { allowed: ['Read', 'Grep'] }, ...fields });

const EVENTS = ['state:get', 'state:set', 'message:publish', 'system:health', 'system:shutdown', 'agent:spawn'];

describe('permission rules', () => {
  describe('applyOverrides', () => {
    it('adds and removes tools, and never turns "all tools" into a list by adding', () => {
      expect(applyOverrides(profile({}), { tools: { allowed_add: ['Write', 'Read'], disallowed_add: ['Bash'] } }).tools).toEqual({ allowed: ['Read', 'Grep', 'Write'], disallowed: ['Bash'] });
      const all = profile({ tools: { allowed: null } });
      expect(applyOverrides(all, { tools: { allowed_add: ['Write'] } }).tools.allowed).toBeNull();
      expect(applyOverrides(all, { tools: { allowed_remove: ['Bash'] } }).tools.allowed).toEqual(CLAUDE_TOOLS.filter((tool) => tool !== 'Bash'));
    });

    it('sets capabilities, raises resources only, and appends event globs', () => {
      const base = profile({ capabilities: { spawn_agents: false, network_access: true }, resources: { max_tokens: 100 }, events: { allowed: ['state:get'], disallowed: [] } });
      const changed = applyOverrides(base, {
        capabilities: { spawn_agents: true },
        resources: { max_tokens: 50, max_requests: 10 },
        events: { allowed_add: ['state:set'], disallowed_add: ['state:get'] },
      });
      expect(changed.capabilities).toEqual({ spawn_agents: true, network_access: true });
      expect(changed.resources).toEqual({ max_tokens: 100, max_requests: 10 });
      expect(changed.events).toEqual({ allowed: ['state:get', 'state:set'], disallowed: ['state:get'] });
      expect(base.events.allowed).toEqual(['state:get']);
    });
  });

  it("effectiveTools is the allowed list (or every builtin tool) and the agent's KSI tools, without the disallowed names and globs", () => {
    expect(effectiveTools(profile({ tools: { allowed: ['Read', 'Bash'], disallowed: ['Bash'] } }))).toEqual(['Read', 'mcp__ksi']);
    expect(effectiveTools(profile({ tools: { allowed: null, disallowed: ['Task', 'Cron*'] } }))).toEqual([
      ...CLAUDE_TOOLS.filter((tool) => tool !== 'Task' && !tool.startsWith('Cron')),
      'mcp__ksi',
    ]);
    expect(effectiveTools(profile({ tools: { allowed: ['Read'], disallowed: ['mcp__ksi'] } }))).toEqual(['Read']);
  });

  it('eventAccess allows by glob, lets disallowed globs win, and allows nothing without globs', () => {
    const may = eventAccess(profile({ events: { allowed: ['state:*', 'system:*'], disallowed: ['system:shutdown'] } }));
    expect(EVENTS.filter(may)).toEqual(['state:get', 'state:set', 'system:health']);
    expect(EVENTS.filter(eventAccess(profile({})))).toEqual([]);
  });

  describe('spawnProblems', () => {
    const parent = profile({
      tools: { allowed: ['Read', 'Grep'] },
      capabilities: { spawn_agents: true, network_access: false },
      resources: { max_tokens: 100 },
      events: { allowed: ['state:*', 'system:*'], disallowed: ['system:shutdown'] },
      state: { namespaces: ['shared:*'] },
    });

    it('finds nothing for a child within its parent', () => {
      const child = profile({
        tools: { allowed: ['Read'] },
        resources: { max_tokens: 100 },
        events: { allowed: ['state:get'] },
        state: { namespaces: ['shared:*'] },
        approvals: { allow: ['Grep(*.ts)'], deny: ['Bash(rm*)'] },
      });
      expect(spawnProblems(parent, child, EVENTS)).toEqual([]);
    });

    it('names every way a child would exceed its parent', () => {
      const child = profile({
        tools: { allowed: ['Read', 'Bash'] },
        capabilities: { network_access: true },
        resources: { max_tokens: 101, unknown_to_parent: 5 },
        events: { allowed: ['*'] },
        state: { namespaces: ['shared:*', 'global'] },
        approvals: { allow: ['Bash(git status*)'] },
      });
      expect(spawnProblems(parent, child, EVENTS)).toEqual([
        'tools the parent lacks: Bash',
        'capabilities the parent lacks: network_access',
        "resources above the parent's: max_tokens",
        'events the parent may not send: message:publish, system:shutdown, agent:spawn',
        'approval rules the parent lacks: Bash(git status*)',
        'state namespaces the parent is not granted: global',
      ]);
    });

    it('refuses every child of a parent that may not spawn', () => {
      expect(spawnProblems(profile({}), profile({}), EVENTS)).toEqual(['the parent (test) may not spawn agents']);
    });
  });
});
