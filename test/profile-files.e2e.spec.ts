import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { useFakeClaudeDaemon } from './support/completions';

const SHIPPED = path.resolve(__dirname, '../var/lib');

/** A copy of the shipped library with a permission profile of each kind of mistake. */
function writeLibrary(root: string): { duplicate: string; typo: string } {
  fs.cpSync(SHIPPED, root, { recursive: true });
  const profiles = path.join(root, 'permissions', 'profiles');
  const duplicate = path.join(profiles, 'careful.yaml');
  const standard = fs.readFileSync(path.join(profiles, 'standard.yaml'), 'utf8').replace('level: standard', 'level: careful');
  // A second tools.allowed key: YAML refuses a map with the same key twice.
  fs.writeFileSync(duplicate, standard.replace(/^tools:\n/m, 'tools:\n  allowed: [Read]\n'));
  const typo = path.join(profiles, 'reader.yaml');
  fs.writeFileSync(typo, 'level: reader\ndescription: reads\ntools:\n  allowd: [Read]\n');
  return { duplicate, typo };
}

describe('permission profile files with mistakes (real daemon)', () => {
  const libDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksi-lib-'));
  const files = writeLibrary(libDir);
  const { daemon, send } = useFakeClaudeDaemon({ env: { KSI_LIB_DIR: libDir } });
  afterAll(() => fs.rmSync(libDir, { recursive: true, force: true }));

  const duplicateProblem = () => {
    const line = fs.readFileSync(files.duplicate, 'utf8').split('\n').lastIndexOf('  allowed: [Read, Glob, Grep, ToolSearch, Edit, Write, NotebookEdit, TaskCreate, TaskGet, TaskList, TaskUpdate]') + 1;
    return `${files.duplicate}: not valid YAML: Map keys must be unique (line ${line}, column 3)`;
  };
  const typoProblem = () => `${files.typo}: tools.allowd: unknown key, did you mean allowed? (line 4)`;

  it('starts without the broken profiles and names each file, line and cause in its log and in composition:reload', async () => {
    const { profiles } = await send('permission:list_profiles');
    expect(Object.keys(profiles).sort()).toEqual(['researcher', 'restricted', 'standard', 'supervised', 'trusted']);
    const warnings = daemon
      .readLog()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
      .filter((entry) => entry.msg === 'permission profile left out')
      .map((entry) => entry.problem);
    expect(warnings.sort()).toEqual([duplicateProblem(), typoProblem()].sort());
    expect((await send('composition:reload')).problems).toEqual(expect.arrayContaining([duplicateProblem(), typoProblem()]));
  });

  it('refuses a spawn naming a broken profile, and a composition:validate of a profile naming it, pointing at the file', async () => {
    const refused = await send('agent:spawn', { profile: 'base_agent', agent_id: 'careful-1', permission_profile: 'careful' });
    expect(refused).toEqual({
      code: 'invalid_permission_profile',
      error: `Permission profile careful was left out when the profiles were read: ${duplicateProblem()}. Fix the file and send composition:reload`,
    });
    expect((await send('agent:list')).agents.map((agent: { agent_id: string }) => agent.agent_id)).not.toContain('careful-1');
    expect(await send('permission:get_profile', { level: 'reader' })).toMatchObject({ code: 'invalid_permission_profile', error: expect.stringContaining(typoProblem()) });
    await send('composition:create', { name: 'careful_agent', permission_profile: 'careful' });
    expect(await send('composition:validate', { name: 'careful_agent' })).toEqual({
      status: 'error',
      valid: false,
      issues: [expect.stringContaining(`dynamic composition careful_agent: permission_profile: Permission profile careful was left out when the profiles were read: ${duplicateProblem()}`)],
    });
  });

  it('picks up the fixed file on composition:reload', async () => {
    const text = fs.readFileSync(files.duplicate, 'utf8');
    fs.writeFileSync(files.duplicate, text.replace('tools:\n  allowed: [Read]\n', 'tools:\n'));
    expect((await send('composition:reload')).problems).toEqual([typoProblem()]);
    expect(await send('composition:validate', { name: 'careful_agent' })).toMatchObject({ valid: true, issues: [] });
    expect(await send('agent:spawn', { profile: 'base_agent', agent_id: 'careful-2', permission_profile: 'careful' })).toMatchObject({ agent_id: 'careful-2', permission_profile: 'careful' });
  });
});
