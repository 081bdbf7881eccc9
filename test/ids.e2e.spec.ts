import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KsiEventError } from '../libs/client/src';
import { useFakeClaudeDaemon } from './support/completions';

const SHIPPED = path.resolve(__dirname, '../var/lib');

/** The shipped library, plus a composition and a pattern whose names would escape their folders. */
function writeLibrary(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ksi-lib-'));
  fs.cpSync(SHIPPED, root, { recursive: true });
  fs.writeFileSync(path.join(root, 'compositions', 'profiles', 'escape.yaml'), 'name: ../escape\ntype: profile\nversion: 1\ndescription: x\n');
  fs.writeFileSync(
    path.join(root, 'compositions', 'orchestrations', 'climb.yaml'),
    'name: climb\nagents:\n  "../up": { profile: base_agent }\ncoordination:\n  turn_order: ["../up"]\n  start: go\n',
  );
  return root;
}

/** Ids that must never become a file or folder name, or reach a command line as an option. */
const UNSAFE = ['..', '.', 'a/b', '--x', 'x'.repeat(300)];
const label = (id: string) => (id.length > 20 ? `${id.length} characters` : JSON.stringify(id));

describe('ids that become paths are validated (real daemon)', () => {
  const libDir = writeLibrary();
  const { daemon, send } = useFakeClaudeDaemon({ env: { KSI_LIB_DIR: libDir } });
  afterAll(() => fs.rmSync(libDir, { recursive: true, force: true }));

  /** The reply, or the request-level error as {code, details}. */
  const outcome = async (event: string, data: Record<string, unknown>): Promise<Record<string, any>> => {
    try {
      return await send(event, data);
    } catch (error) {
      if (error instanceof KsiEventError) return { code: error.code, error: error.message, details: error.details };
      throw error;
    }
  };

  it.each(UNSAFE.map((id) => [label(id), id]))('refuses %s everywhere it would become a path, naming the field', async (_label, id) => {
    const attempts: [string, Record<string, unknown>, string][] = [
      ['agent:spawn', { profile: 'base_agent', agent_id: id }, 'agent_id'],
      ['agent:spawn', { profile: 'base_agent', parent_id: id }, 'parent_id'],
      ['agent:spawn', { profile: 'base_agent', sandbox_config: { mode: 'shared', session_id: id } }, 'sandbox_config.session_id'],
      ['agent:terminate', { agent_id: id }, 'agent_id'],
      ['agent:restart', { agent_id: id }, 'agent_id'],
      ['sandbox:create', { agent_id: id }, 'agent_id'],
      ['sandbox:create', { agent_id: 'fine', config: { mode: 'shared', session_id: id } }, 'config.session_id'],
      ['sandbox:create', { agent_id: 'fine', config: { mode: 'nested', parent_agent_id: id } }, 'config.parent_agent_id'],
      ['sandbox:remove', { agent_id: id }, 'agent_id'],
      ['permission:set_agent', { agent_id: id }, 'agent_id'],
      ['permission:issue_token', { agent_id: id }, 'agent_id'],
      ['mcp:agent_config', { agent_id: id }, 'agent_id'],
      ['composition:get', { name: id }, 'name'],
      ['composition:compose', { name: id }, 'name'],
      ['composition:create', { name: id, prompt: 'x' }, 'name'],
      ['orchestration:load_pattern', { pattern: id }, 'pattern'],
      ['orchestration:start', { pattern: id }, 'pattern'],
    ];
    for (const [event, data, field] of attempts) {
      const reply = await outcome(event, data);
      expect({ event, field, code: reply.code, fields: reply.details?.map((issue: { path: string }) => issue.path) }).toEqual({ event, field, code: 'invalid_params', fields: [field] });
    }
  });

  it("keeps a legitimate agent's workspace through every attempt", async () => {
    const keeper = await send('agent:spawn', { profile: 'base_agent', agent_id: 'keeper' });
    const precious = path.join(keeper.sandbox as string, 'notes.txt');
    fs.writeFileSync(precious, 'keep me');
    for (const id of UNSAFE) {
      await outcome('agent:spawn', { profile: 'base_agent', agent_id: id });
      await outcome('agent:terminate', { agent_id: id });
      await outcome('sandbox:remove', { agent_id: id, force: true });
    }
    expect(fs.readFileSync(precious, 'utf8')).toBe('keep me');
    expect(fs.readdirSync(path.join(daemon.varDir, 'sandbox', 'agents'))).toEqual(['keeper']);
    expect((await send('agent:list')).agents.map((agent: { agent_id: string }) => agent.agent_id)).toEqual(['keeper']);
  });

  it('leaves out a composition file whose name is not a safe id, and refuses a pattern whose agent names are not', async () => {
    const { problems } = await send('composition:reload');
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(/escape\.yaml: name: Must be 1-128 letters/)]));
    expect((await send('composition:list')).compositions.map((c: { name: string }) => c.name)).not.toContain('../escape');
    expect(await outcome('orchestration:start', { pattern: 'climb' })).toMatchObject({ code: 'invalid_pattern', error: expect.stringContaining('../up') });
    expect(fs.readdirSync(path.join(daemon.varDir, 'sandbox', 'agents'))).toEqual(['keeper']);
  });
});
