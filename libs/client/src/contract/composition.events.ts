import { jsonObject, safeId, z } from './schema';

const name = safeId('Composition name');
const type = z.string().min(1).optional().describe('profile, prompt, orchestration, … (narrows the lookup)');
const variables = jsonObject().default({}).describe('Values for the composition\'s {{ placeholders }} and conditions');

export const composeParams = z.object({ name, type, variables });
export const profileParams = z.object({ name, variables });
export const promptParams = z.object({ name, variables });
export const compositionNameParams = z.object({ name, type });
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

/** An index row: what discovery, listing and selection work from. */
export interface CompositionSummary {
  name: string;
  type: string;
  version: string;
  description: string;
  author: string | null;
  extends: string | null;
  role: string | null;
  tags: string[];
  capabilities: string[];
  source: 'file' | 'dynamic';
  file_path: string | null;
}

/** A composed profile: what agents use. */
export interface ComposedProfile {
  name: string;
  type: 'profile';
  model: string;
  prompt: string;
  permission_profile: string;
  role: string;
  capabilities: string[];
  [component: string]: unknown;
}

export interface CompositionEvents {
  'composition:compose': { params: z.input<typeof composeParams>; result: { status: 'success'; composition: Record<string, unknown> } };
  'composition:profile': { params: z.input<typeof profileParams>; result: { status: 'success'; profile: ComposedProfile } };
  'composition:prompt': { params: z.input<typeof promptParams>; result: { status: 'success'; prompt: string } };
  'composition:validate': { params: z.input<typeof compositionNameParams>; result: { status: 'success' | 'error'; valid: boolean; issues: string[] } };
  'composition:list': { params: z.input<typeof compositionListParams>; result: { status: 'success'; compositions: CompositionSummary[]; count: number } };
  'composition:discover': { params: z.input<typeof compositionDiscoverParams>; result: { status: 'success'; compositions: CompositionSummary[]; count: number } };
  'composition:reload': { params: z.input<typeof noCompositionParams>; result: { status: 'success'; indexed: number; message: string } };
}

/** Every composition event's definition. */
export const compositionEvents = [] as const;
