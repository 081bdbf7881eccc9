/** The part of a generated JSON Schema (params, result or payload) that field listings read. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  const?: unknown;
  default?: unknown;
  description?: string;
}

/** One top-level field of an object schema. */
export interface SchemaField {
  name: string;
  /** JSON types joined by "|", e.g. "string|null"; "any" when the schema says none. */
  type: string;
  required: boolean;
  default?: unknown;
  description: string;
  /** The one value the field has in this shape (a union's discriminator). */
  const?: unknown;
}

/**
 * The object shapes a schema allows, one field list each: every option of a union (zod unions become
 * `anyOf`/`oneOf`, nested ones are flattened), else the schema's own fields.
 */
export function shapesOf(schema: JsonSchema): SchemaField[][] {
  return variantsOf(schema).map(fieldsOf);
}

/** The fields of all shapes, each once as its first shape declares it; required only when every shape requires it. */
export function mergedFields(shapes: SchemaField[][]): SchemaField[] {
  const fields = new Map<string, SchemaField>();
  for (const field of shapes.flat()) if (!fields.has(field.name)) fields.set(field.name, field);
  return [...fields.values()].map((field) => ({ ...field, required: shapes.every((shape) => shape.some((other) => other.name === field.name && other.required)) }));
}

function variantsOf(schema: JsonSchema): JsonSchema[] {
  const options = schema.anyOf ?? schema.oneOf;
  return options ? options.flatMap(variantsOf) : [schema];
}

function fieldsOf(schema: JsonSchema): SchemaField[] {
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {}).map(([name, property]) => ({
    name,
    type: typeOf(property),
    required: required.has(name),
    default: property.default,
    description: property.description ?? '',
    const: property.const,
  }));
}

/** A field that is itself a union (e.g. a nullable object) has the types of its options. */
function typeOf(property: JsonSchema): string {
  if (property.type !== undefined) return [property.type].flat().join('|');
  const options = property.anyOf ?? property.oneOf;
  if (!options) return 'any';
  const types = new Set(options.flatMap((option) => typeOf(option).split('|')));
  return types.has('any') ? 'any' : [...types].join('|');
}
