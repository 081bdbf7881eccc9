import * as fs from 'node:fs';
import * as path from 'node:path';
import picomatch from 'picomatch';
import { parse } from 'yaml';
import { mcpToolName, permissionsSchema, type Permissions } from '../../../libs/client/src';
import { CLAUDE_TOOLS, KSI_MCP_TOOLS } from './claude-tools';
import { eventAccess } from './permission-rules';

const ROOT = path.join(__dirname, '..', '..', '..');
const PROFILES_DIR = path.join(ROOT, 'var', 'lib', 'permissions', 'profiles');
const recorded = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'recorded', 'claude-2.1-tools.json'), 'utf8')) as { tools: string[] };

const profiles: [string, Permissions][] = fs
  .readdirSync(PROFILES_DIR)
  .filter((file) => /\.ya?ml$/.test(file))
  .map((file) => [file, permissionsSchema.parse(parse(fs.readFileSync(path.join(PROFILES_DIR, file), 'utf8')))]);

/** Literal event names a profile allows: the KSI MCP server offers exactly the events the agent may send. */
function offeredKsiTools(permissions: Permissions): Set<string> {
  const may = eventAccess(permissions);
  const literal = permissions.events.allowed.filter((glob) => !picomatch.scan(glob).isGlob);
  return new Set(literal.filter(may).map((event) => `${KSI_MCP_TOOLS}__${mcpToolName(event)}`));
}

/** Why a tool rule of a profile names nothing the CLI or the agent's KSI server offers; undefined when it does. */
function unknownRule(rule: string, permissions: Permissions): string | undefined {
  if (rule === KSI_MCP_TOOLS || rule === `${KSI_MCP_TOOLS}__*`) return undefined;
  if (rule.startsWith(`${KSI_MCP_TOOLS}__`)) return offeredKsiTools(permissions).has(rule) ? undefined : `${rule} is not a tool of the agent's KSI server`;
  if (recorded.tools.includes(rule)) return undefined;
  if (picomatch.scan(rule).isGlob && recorded.tools.some((tool) => picomatch.isMatch(tool, rule))) return undefined;
  return `${rule} is not a Claude Code 2.1 tool`;
}

describe('shipped permission profiles', () => {
  it('are all there', () => {
    expect(profiles.map(([, permissions]) => permissions.level).sort()).toEqual(['researcher', 'restricted', 'standard', 'supervised', 'trusted']);
  });

  it("the built-in tool list is the recorded CLI's", () => {
    expect([...CLAUDE_TOOLS].sort()).toEqual([...recorded.tools].sort());
  });

  it.each(profiles)('%s names only tools the CLI or the agent KSI server offers', (_file, permissions) => {
    const rules = [...(permissions.tools.allowed ?? []), ...permissions.tools.disallowed];
    expect(rules.map((rule) => unknownRule(rule, permissions)).filter(Boolean)).toEqual([]);
  });

  it.each(profiles.filter(([, permissions]) => permissions.tools.allowed !== null))(
    '%s decides every built-in tool: allowed, disallowed or asked (named by an approval rule), never two of them',
    (_file, permissions) => {
      const allowed = permissions.tools.allowed ?? [];
      const disallowed = (tool: string) => permissions.tools.disallowed.some((rule) => picomatch.isMatch(tool, rule));
      const approvalRules = [...permissions.approvals.allow, ...permissions.approvals.deny].map((rule) => rule.replace(/\(.*$/s, ''));
      const asked = (tool: string) => approvalRules.some((rule) => picomatch.isMatch(tool, rule));
      expect(recorded.tools.filter((tool) => [allowed.includes(tool), disallowed(tool), asked(tool)].filter(Boolean).length !== 1)).toEqual([]);
    },
  );

  it('restricted offers reading tools only', () => {
    const [, restricted] = profiles.find(([, permissions]) => permissions.level === 'restricted')!;
    expect(restricted.tools.allowed).toEqual(['Read', 'Glob', 'Grep', 'ToolSearch']);
  });
});
