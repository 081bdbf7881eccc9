import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { KsiClient } from '../libs/client/src';
import { DaemonProcess } from './support/daemon-process';

const SHIPPED = path.resolve(__dirname, '../var/lib/compositions');

/** A library of our own for the edge cases, beside a copy of the shipped one. */
function writeLibrary(root: string): void {
  const dir = path.join(root, 'compositions');
  fs.cpSync(SHIPPED, dir, { recursive: true });
  fs.cpSync(path.join(SHIPPED, '..', 'permissions'), path.join(root, 'permissions'), { recursive: true });
  const file = (name: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  };
  file('fragments/hello.md', 'Hello {{ who }}!');
  file(
    'test/parent.yaml',
    `name: t_parent
type: profile
version: 1
description: parent
variables:
  who: { default: world }
components:
  - { name: a, inline: from parent }
  - { name: b, inline: parent b }
  - { name: greeting, source: hello.md }
`,
  );
  file('test/mixin.yaml', 'name: t_mixin\ntype: component\nversion: 1\ndescription: mixin\ncomponents:\n  - { name: a, inline: from mixin }\n  - { name: c, inline: from mixin }\n');
  file(
    'test/child.yaml',
    `name: t_child
type: profile
version: 1
description: child
extends: t_parent
mixins: [t_mixin]
variables:
  mode: { default: calm }
  level: { default: 3 }
components:
  - { name: b, inline: child b }
  - { name: calm_only, condition: "{{ mode }} == 'calm'", inline: yes }
  - { name: loud_only, condition: "mode == 'loud'", inline: yes }
  - name: every
    conditions: { all_of: ["level > 2", "mode == 'calm'"], none_of: ["level > 5"] }
    inline: yes
  - name: whole
    inline: "{{ settings }}"
  - name: text
    template: "mode={{ mode }}; note={{ note }}; unknown={{ nobody }}"
`,
  );
  file('test/broken_version.yaml', 'name: t_no_version\ntype: profile\ndescription: x\n');
  file('test/two_sources.yaml', 'name: t_two\ntype: profile\nversion: 1\ndescription: x\ncomponents:\n  - { name: a, inline: x, template: y }\n');
  file('test/bad.yaml', 'name: [unclosed\n');
  // Typos a user made: two keys misspelt, and a profile that loads but names an unknown permission profile and variable.
  file(
    'test/typo.yaml',
    `name: typo
type: profile
version: 1
description: typos
extend: base_agent
varables:
  name: { default: you }
components:
  - { name: prompt, template: "Hello {{ nme }}" }
`,
  );
  file(
    'test/unknown_refs.yaml',
    `name: t_unknown_refs
type: profile
version: 1
description: names what does not exist
extends: base_agent
variables:
  name: { default: you }
components:
  - { name: permission_profile, inline: trustd }
  - { name: prompt, template: "Hello {{ nme }}" }
`,
  );
  file('test/missing_fragment.yaml', 'name: t_missing\ntype: profile\nversion: 1\ndescription: x\ncomponents:\n  - { name: a, source: nowhere.md }\n');
  file('test/cycle_a.yaml', 'name: t_cycle_a\ntype: profile\nversion: 1\ndescription: x\nextends: t_cycle_b\n');
  file('test/cycle_b.yaml', 'name: t_cycle_b\ntype: profile\nversion: 1\ndescription: x\nextends: t_cycle_a\n');
  // Expansion budgets: 10 references each, 7 levels deep; a chain 20 deep; a template that doubles 14 times.
  for (let level = 0; level < 7; level++) {
    const components = level === 6 ? '  - { name: leaf, inline: leaf }\n' : Array.from({ length: 10 }, (_, i) => `  - { name: c${i}, composition: t_wide_${level + 1} }\n`).join('');
    file(`test/wide_${level}.yaml`, `name: t_wide_${level}\ntype: component\nversion: 1\ndescription: x\ncomponents:\n${components}`);
  }
  for (let level = 0; level < 20; level++) {
    const parent = level < 19 ? `extends: t_deep_${level + 1}\n` : '';
    file(`test/deep_${level}.yaml`, `name: t_deep_${level}\ntype: component\nversion: 1\ndescription: x\n${parent}components:\n  - { name: level${level}, inline: ${level} }\n`);
  }
  const doubling = Array.from({ length: 14 }, (_, i) => `  - { name: d${i + 1}, template: "{{ d${i} }}{{ d${i} }}" }\n`).join('');
  file('test/doubling.yaml', `name: t_doubling\ntype: component\nversion: 1\ndescription: x\ncomponents:\n  - { name: d0, inline: "${'x'.repeat(1000)}" }\n${doubling}`);
}

describe('compositions (real daemon, a library on disk)', () => {
  const libDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksi-lib-'));
  writeLibrary(libDir);
  const daemon = new DaemonProcess({ env: { KSI_LIB_DIR: libDir } });
  let client: KsiClient;
  beforeAll(async () => {
    await daemon.start();
    client = daemon.client();
  });
  afterAll(async () => {
    await client.close();
    await daemon.dispose();
    fs.rmSync(libDir, { recursive: true, force: true });
  });
  const compose = (name: string, variables: Record<string, unknown> = {}) => client.sendSingle('composition:compose', { name, variables }) as Promise<Record<string, any>>;

  it('composes every shipped composition', async () => {
    const shipped = (fs.readdirSync(SHIPPED, { recursive: true }) as string[]).filter((file) => file.endsWith('.yaml'));
    expect(shipped.length).toBeGreaterThanOrEqual(8);
    for (const file of shipped) {
      const name = /^name: (\S+)/m.exec(fs.readFileSync(path.join(SHIPPED, file), 'utf8'))?.[1] as string;
      const variables = name === 'summarize' ? { text: 'something' } : {};
      const result = await compose(name, variables);
      expect({ file, status: result.status }).toEqual({ file, status: 'success' });
      expect({ file, ...(await client.sendSingle('composition:validate', { name, variables })) }).toMatchObject({ file, valid: true, issues: [] });
    }
  });

  it('composes profiles with the keys agents use at the top level', async () => {
    const { profile } = (await client.sendSingle('composition:profile', { name: 'debate_proponent', variables: { topic: 'remote work', agent_id: 'pro-1' } })) as Record<string, any>;
    expect(profile).toMatchObject({ name: 'debate_proponent', type: 'profile', model: 'claude-cli/sonnet', role: 'debater', permission_profile: 'restricted', capabilities: ['conversation', 'debate'], opening: 'You open the debate.' });
    expect(profile.prompt).toContain('You are pro-1');
    expect(profile.prompt).toContain('You argue for remote work.');
    expect(profile.prompt).toContain('Debate rules:');
    const opponent = ((await client.sendSingle('composition:profile', { name: 'debate_opponent' })) as Record<string, any>).profile;
    expect(opponent.prompt).toContain('You argue against the motion.');
    expect(opponent).not.toHaveProperty('opening');
  });

  it('applies inheritance, mixins (without overriding), conditions with string comparisons, and declared defaults', async () => {
    const { composition } = await compose('t_child', { settings: { deep: [1, 2] }, note: 'n' });
    expect(composition).toMatchObject({
      a: 'from parent',
      b: 'child b',
      c: 'from mixin',
      greeting: 'Hello world!',
      calm_only: 'yes',
      every: 'yes',
      whole: { deep: [1, 2] },
      text: 'mode=calm; note=n; unknown={{ nobody }}',
    });
    expect(composition).not.toHaveProperty('loud_only');
    const loud = (await compose('t_child', { mode: 'loud', level: 9 })).composition;
    expect(loud).toMatchObject({ loud_only: 'yes' });
    expect(loud).not.toHaveProperty('calm_only');
    expect(loud).not.toHaveProperty('every');
  });

  it('substitutes hostile values safely, once', async () => {
    const hostile = 'quote " backslash \\ newline\n brace {{ mode }} json {"a": 1}';
    const { composition } = await compose('t_child', { note: hostile, who: hostile });
    expect(composition.text).toBe(`mode=calm; note=${hostile}; unknown={{ nobody }}`);
    expect(composition.greeting).toBe(`Hello ${hostile}!`);
  });

  it('names the file and the field of every mistake', async () => {
    const reload = (await client.sendSingle('composition:reload')) as Record<string, any>;
    const dir = path.join(libDir, 'compositions', 'test');
    expect(reload.problems).toEqual(
      expect.arrayContaining([
        `${dir}/broken_version.yaml: version: Required`,
        `${dir}/two_sources.yaml: components.0: A component needs exactly one of source, composition, inline or template (line 6)`,
        `${dir}/bad.yaml: not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ] (line 2, column 1)`,
      ]),
    );
    expect(await compose('t_missing')).toMatchObject({ code: 'not_found', error: expect.stringContaining('test/missing_fragment.yaml: components.a: fragment not found: nowhere.md') });
    expect(await compose('t_cycle_a')).toMatchObject({ code: 'invalid_composition', error: expect.stringContaining('cycle') });
    expect(await compose('nope')).toMatchObject({ code: 'not_found', error: 'Composition not found: nope' });
  });

  it('refuses unknown keys, naming the file, the key and the line, with the key meant', async () => {
    const typo = `${path.join(libDir, 'compositions', 'test', 'typo.yaml')}: extend: unknown key, did you mean extends? (line 5); varables: unknown key, did you mean variables? (line 6)`;
    expect((await client.sendSingle('composition:reload')).problems).toContain(typo);
    // While the file is broken, asking for it by name points at the file, not "not found".
    expect(await client.sendSingle('composition:validate', { name: 'typo' })).toEqual({ status: 'error', valid: false, issues: [expect.stringContaining(typo)] });
    expect(await compose('typo')).toMatchObject({ code: 'invalid_composition', error: expect.stringContaining(typo) });
    const created = await client.sendSingle('composition:create', { name: 'made_badly', components: [{ name: 'prompt', templat: 'x' }] });
    expect(created).toMatchObject({ code: 'invalid_composition', error: expect.stringContaining('components.0.templat: unknown key, did you mean template?') });
  });

  it('validates the permission profile a profile names and the placeholders it leaves without a value', async () => {
    const file = path.join(libDir, 'compositions', 'test', 'unknown_refs.yaml');
    const placeholder = `${file}: components.prompt: {{ nme }} has no value (no variable declared or given, no earlier component by that name) and would stay as written; did you mean name?`;
    const permission = `${file}: permission_profile: Permission profile not found: trustd. Did you mean trusted? Known: `;
    const validated = await client.sendSingle('composition:validate', { name: 't_unknown_refs' });
    expect(validated).toEqual({ status: 'error', valid: false, issues: [placeholder, expect.stringContaining(permission)] });
    // A variable given is a value: only the permission profile is left.
    expect(await client.sendSingle('composition:validate', { name: 't_unknown_refs', variables: { nme: 'x' } })).toMatchObject({ valid: false, issues: [expect.stringContaining(permission)] });
  });

  it('answers compositions that expand too far with composition_too_large, at once', async () => {
    expect(await compose('t_wide_0')).toMatchObject({ code: 'composition_too_large', error: expect.stringContaining('more than 1000 compositions') });
    expect(await compose('t_deep_0')).toMatchObject({ code: 'composition_too_large', error: expect.stringContaining('more than 16 levels') });
    expect(await compose('t_doubling')).toMatchObject({ code: 'composition_too_large', error: expect.stringContaining('characters of text') });
    expect(await compose('t_wide_4')).toMatchObject({ status: 'success' });
    expect(await client.sendSingle('composition:validate', { name: 't_missing' })).toMatchObject({ valid: false, issues: [expect.stringContaining('nowhere.md')] });
    expect(await client.sendSingle('composition:validate', { name: 'coder' })).toMatchObject({ valid: true, issues: [] });
  });

  it('lists, discovers and selects from the SQLite index', async () => {
    const profiles = (await client.sendSingle('composition:list', { type: 'profile' })) as Record<string, any>;
    expect(profiles.compositions.map((c: { name: string }) => c.name)).toEqual(expect.arrayContaining(['base_agent', 'coder', 'researcher', 'conversationalist']));
    const found = (await client.sendSingle('composition:discover', { capabilities: ['research'] })) as Record<string, any>;
    expect(found.compositions.map((c: { name: string }) => c.name)).toEqual(['researcher']);
    const selected = (await client.sendSingle('composition:select', { task: 'fix the failing tests in this code', capabilities: ['code'] })) as Record<string, any>;
    expect(selected).toMatchObject({ selected: 'coder', fallback_used: false });
    expect(await client.sendSingle('composition:select', { task: 'zzzz qqqq' })).toMatchObject({ selected: 'base_agent', fallback_used: true });
    const suggested = await client.sendSingle('composition:select', { task: 'fix the failing tests in this code', capabilities: ['code'], max_suggestions: 3 });
    expect(suggested.suggestions?.[0]).toMatchObject({ name: 'coder', score: suggested.score });
  });

  it('shows a composition as written, where its components come from, and a prompt as text', async () => {
    const { composition } = await client.sendSingle('composition:get', { name: 'summarize' });
    expect(composition).toMatchObject({ name: 'summarize', version: '1.0.0', file_path: 'prompts/summarize.yaml', variables: { text: { required: true } } });
    expect(composition.components).toEqual([
      { name: 'instruction', kind: 'template' },
      { name: 'text', kind: 'template' },
    ]);
    expect((await client.sendSingle('composition:get', { name: 't_parent' })).composition.components).toContainEqual({ name: 'greeting', kind: 'source', source: 'hello.md' });
    const { prompt } = await client.sendSingle('composition:prompt', { name: 'summarize', variables: { text: 'The text.' } });
    expect(prompt).toBe('Summarise the text below as three bullet points.\n\nThe text.');
  });

  it('creates compositions at run time that survive a reload, and picks up new files on reload', async () => {
    const created = (await client.sendSingle('composition:create', { name: 'made_now', role: 'critic', prompt: 'Criticise {{ thing }}.', capabilities: ['review'] })) as Record<string, any>;
    expect(created).toMatchObject({ status: 'success', name: 'made_now' });
    const { profile } = (await client.sendSingle('composition:profile', { name: 'made_now', variables: { thing: 'the plan' } })) as Record<string, any>;
    expect(profile).toMatchObject({ role: 'critic', prompt: 'Criticise the plan.', capabilities: ['review'], permission_profile: 'standard' });
    fs.writeFileSync(path.join(libDir, 'compositions', 'test', 'late.yaml'), 'name: t_late\ntype: prompt\nversion: 1\ndescription: late\ncomponents:\n  - { name: x, inline: here }\n');
    expect(await compose('t_late')).toMatchObject({ code: 'not_found' });
    await client.sendSingle('composition:reload');
    expect((await compose('t_late')).composition).toEqual({ x: 'here' });
    expect((await client.sendSingle('composition:list', { type: 'profile' })).compositions.some((c: { name: string }) => c.name === 'made_now')).toBe(true);
  });
});
