import { z } from 'zod';
import { safeId } from '../../../libs/client/src';

const conditionList = z.array(z.string()).optional();

export const componentSchema = z
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

export const variableSchema = z.strictObject({
  type: z.string().optional(),
  default: z.unknown().optional(),
  description: z.string().optional(),
  required: z.boolean().optional(),
});

/** A composition file (YAML) or a dynamic composition, as validated before use. */
export const compositionSchema = z.looseObject({
  name: safeId('Composition name'),
  type: z.string().min(1, 'Must not be empty'),
  version: z
    .union([z.string(), z.number()], { error: (issue) => (issue.input === undefined ? 'Required' : 'Must be a string or a number, such as 1.0.0') })
    .transform(String),
  description: z.string(),
  author: z.string().optional(),
  extends: z.string().optional(),
  mixins: z.array(z.string()).default([]),
  components: z.array(componentSchema).default([]),
  variables: z.record(z.string(), variableSchema).default({}),
  metadata: z.record(z.string(), z.unknown()).default({}),
});

export type Component = z.output<typeof componentSchema>;
export type Composition = z.output<typeof compositionSchema>;

/** A mistake in a composition: says which file and which field. */
export class CompositionError extends Error {
  constructor(
    readonly code: 'not_found' | 'invalid_composition' | 'invalid_variables' | 'composition_too_large',
    message: string,
  ) {
    super(message);
  }
}
