import { defineRequest } from './definition';
import { jsonObject, safeId, z } from './schema';

const name = safeId('Composition name');
const type = z.string().min(1).optional().describe('profile, prompt, orchestration, … (narrows the lookup)');
const variables = jsonObject().default({}).describe('Values for the composition\'s {{ placeholders }} and conditions');

export const composeParams = z.object({ name, type, variables });
export const profileParams = z.object({ name, variables });
export const promptParams = z.object({ name, variables });
export const compositionNameParams = z.object({ name, type });
export const compositionValidateParams = z.object({ name, type, variables });
export const compositionListParams = z.object({ type: z.string().default('all').describe('A type, or "all"') });
export const compositionDiscoverParams = z.object({
  type: z.string().optional(),
  name: z.string().optional().describe('Substring of the name'),
  capabilities: z.array(z.string()).default([]).describe('All of these capabilities'),
  tags: z.array(z.string()).default([]).describe('All of these tags'),
  role: z.string().optional(),
});
export const compositionSelectParams = z.object({
  role: z.string().optional(),
  capabilities: z.array(z.string()).default([]),
  task: z.string().optional().describe('What the agent will do; words are matched against descriptions and tags'),
  max_suggestions: z.number().int().min(1).max(20).default(1),
});
export const compositionCreateParams = z.object({
  name: safeId('Name of the new composition').optional(),
  type: z.string().default('profile'),
  extends: z.string().optional().describe('Parent composition (default base_agent for profiles)'),
  description: z.string().default('Created at run time'),
  components: z.array(jsonObject()).optional(),
  model: z.string().optional(),
  role: z.string().optional(),
  capabilities: z.array(z.string()).optional(),
  prompt: z.string().optional(),
  permission_profile: z.string().optional(),
  metadata: jsonObject().default({}),
});
export const noCompositionParams = z.object({});

const conditionList = z.array(z.string()).optional();

/** One part of a composition: exactly one of source (a fragment file), composition, inline or template. */
const compositionComponent = z
  .strictObject({
    name: z.string().min(1, 'Must not be empty'),
    source: z.string().min(1).optional(),
    composition: z.string().min(1).optional(),
    inline: z.unknown().optional(),
    template: z.string().optional(),
    vars: z.record(z.string(), z.unknown()).optional(),
    condition: z.string().optional(),
    conditions: z.strictObject({ all_of: conditionList, any_of: conditionList, none_of: conditionList }).optional(),
  })
  .refine((c) => [c.source, c.composition, c.inline, c.template].filter((v) => v !== undefined).length === 1, {
    message: 'A component needs exactly one of source, composition, inline or template',
  });

const compositionVariable = z.strictObject({
  type: z.string().optional(),
  default: z.unknown().optional(),
  description: z.string().optional(),
  required: z.boolean().optional(),
});

/**
 * A composition file (YAML) or a dynamic composition, as validated before use. Strict: a mistyped
 * key (`extend:`, `varables:`) is an error, not a part silently ignored.
 */
export const compositionDocument = z.strictObject({
  name: safeId('Composition name'),
  type: z.string().min(1, 'Must not be empty'),
  version: z
    .union([z.string(), z.number()], { error: (issue) => (issue.input === undefined ? 'Required' : 'Must be a string or a number, such as 1.0.0') })
    .transform(String)
    .pipe(z.string()),
  description: z.string(),
  author: z.string().optional(),
  extends: z.string().optional(),
  mixins: z.array(z.string()).default([]),
  components: z.array(compositionComponent).default([]),
  variables: z.record(z.string(), compositionVariable).default({}),
  metadata: z.record(z.string(), z.unknown()).default({}),
  agents: jsonObject().optional().describe('An orchestration pattern\'s agents (checked by orchestration:start)'),
  coordination: jsonObject().optional().describe('An orchestration pattern\'s turns and termination (checked by orchestration:start)'),
});
export type CompositionComponent = z.output<typeof compositionComponent>;
export type CompositionDocument = z.output<typeof compositionDocument>;

const filePath = z.string().nullable().describe('Relative to the compositions folder; null for dynamic compositions');

/** What composition:get shows of a component: where its content comes from, not the content. */
const componentOutline = z.object({
  name: z.string(),
  kind: z.enum(['source', 'composition', 'template', 'inline']),
  source: z.string().optional(),
  composition: z.string().optional(),
  condition: z.string().optional(),
});

/** An index row: what discovery, listing and selection work from. */
const compositionSummary = z.object({
  name: z.string(),
  type: z.string(),
  version: z.string(),
  description: z.string(),
  author: z.string().nullable(),
  extends: z.string().nullable(),
  role: z.string().nullable(),
  tags: z.array(z.string()),
  capabilities: z.array(z.string()),
  source: z.enum(['file', 'dynamic']).describe('dynamic: made with composition:create'),
  file_path: filePath,
});
export type CompositionSummary = z.output<typeof compositionSummary>;

/** A composed profile: what agents use, at its top level, besides its other components. */
const composedProfile = z.looseObject({
  name: z.string(),
  type: z.literal('profile'),
  model: z.string(),
  prompt: z.string().describe('The system prompt'),
  permission_profile: z.string(),
  role: z.string(),
  capabilities: z.array(z.string()),
});
export type ComposedProfile = z.output<typeof composedProfile>;

const scoredProfile = { score: z.number(), reasons: z.array(z.string()).describe('What matched: role, capabilities, task words') };
const success = z.literal('success');

export const compositionCompose = defineRequest('composition:compose', {
  summary: 'Resolve a composition (extends, mixins, components) with variables',
  params: composeParams,
  result: z.object({ status: success, composition: jsonObject().describe('Component name → its resolved content') }),
});
export const compositionProfile = defineRequest('composition:profile', {
  summary: 'Resolve an agent profile: model, prompt, permission_profile, role, capabilities',
  params: profileParams,
  result: z.object({ status: success, profile: composedProfile }),
});
export const compositionPrompt = defineRequest('composition:prompt', {
  summary: 'Resolve a prompt composition to text',
  params: promptParams,
  result: z.object({ status: success, prompt: z.string() }),
});
export const compositionValidate = defineRequest('composition:validate', {
  summary: 'Check that a composition loads and resolves (with these variables), that its placeholders have values and its permission profile exists; lists what is wrong',
  params: compositionValidateParams,
  result: z.object({
    status: z.enum(['success', 'error']),
    valid: z.boolean(),
    issues: z.array(z.string()),
    composition: z.object({ name: z.string(), type: z.string(), version: z.string() }).optional().describe('Present when it is valid'),
  }),
});
export const compositionGet = defineRequest('composition:get', {
  summary: "A composition's definition",
  params: compositionNameParams,
  result: z.object({
    status: success,
    composition: compositionDocument.extend({
      components: z.array(componentOutline),
      file_path: filePath,
    }),
  }),
});
export const compositionList = defineRequest('composition:list', {
  summary: 'Compositions in the index, by type or all',
  params: compositionListParams,
  result: z.object({ status: success, compositions: z.array(compositionSummary), count: z.number() }),
});
export const compositionDiscover = defineRequest('composition:discover', {
  summary: 'Find compositions by type, name, role, capabilities and tags',
  params: compositionDiscoverParams,
  result: z.object({
    status: success,
    compositions: z.array(compositionSummary),
    count: z.number(),
    filtered: z.literal(true).describe("The original's flag for filters applied; the filters always apply here"),
  }),
});
export const compositionReload = defineRequest('composition:reload', {
  summary: 'Read the library (compositions and permission profiles) from disk again and rebuild the index',
  params: noCompositionParams,
  result: z.object({
    status: success,
    indexed: z.number(),
    problems: z.array(z.string()).describe('Files left out (compositions and permission profiles), and why'),
    message: z.string(),
  }),
});
export const compositionSelect = defineRequest('composition:select', {
  summary: 'The best profile for a role, capabilities and task',
  params: compositionSelectParams,
  result: z.object({
    status: success,
    selected: z.string(),
    ...scoredProfile,
    fallback_used: z.boolean().describe('No profile matched: base_agent was chosen'),
    suggestions: z.array(z.object({ name: z.string(), ...scoredProfile })).optional().describe('The best matches, best first; only when max_suggestions > 1'),
  }),
});
export const compositionCreate = defineRequest('composition:create', {
  summary: 'Create a composition at run time (kept across restarts)',
  params: compositionCreateParams,
  result: z.object({ status: success, name: z.string(), composition: compositionDocument }),
});

/** Every composition event's definition. */
export const compositionEvents = [
  compositionCompose,
  compositionProfile,
  compositionPrompt,
  compositionValidate,
  compositionGet,
  compositionList,
  compositionDiscover,
  compositionReload,
  compositionSelect,
  compositionCreate,
] as const;
