import { Injectable } from '@nestjs/common';
import jexl from 'jexl';
import type { CompositionComponent, CompositionDocument } from '../../../libs/client/src';
import { PLACEHOLDER, substitute } from '../../common/placeholders';
import { CompositionLibrary } from './composition.library';
import { CompositionError } from './composition.error';
import { closestName } from '../../common/library-file';

type Vars = Record<string, unknown>;

/**
 * Expansion budget: compositions that reference each other can multiply (10 references each, 7
 * levels deep, is ten million resolutions). Real ones stay far below both limits.
 */
export const MAX_COMPOSITION_DEPTH = 16;
export const MAX_COMPOSITION_RESOLUTIONS = 1_000;
/** Text that substitution produces (a template can repeat an earlier component: doubling each time). */
export const MAX_COMPOSITION_CHARS = 8 * 1024 * 1024;

/** What one top-level resolve may still spend, and the placeholders it found no value for. */
interface Budget {
  root: string;
  left: number;
  chars: number;
  unresolved: string[];
}

/** The placeholder names in the strings of a value. */
const placeholdersIn = (value: unknown): Set<string> =>
  new Set([...(typeof value === 'string' ? value : (JSON.stringify(value) ?? '')).matchAll(PLACEHOLDER)].map((match) => match[1]));

/**
 * Resolves a composition: parent (`extends`), then mixins (keys not yet present), then each
 * component whose conditions hold, in order. Declared variable defaults apply; placeholders are
 * substituted inside string values (never in serialised JSON), so any value is safe.
 */
@Injectable()
export class CompositionResolver {
  constructor(private readonly library: CompositionLibrary) {}

  resolve(name: string, type: string | undefined, variables: Vars): Record<string, unknown> {
    return this.check(name, type, variables).resolved;
  }

  /**
   * Resolves, and says which placeholders were left as written: a placeholder stays in the text
   * when nothing gives it a value, which is a mistake (a typo, an undeclared variable) composing
   * cannot tell from text meant to contain braces; composition:validate reports them.
   */
  check(name: string, type: string | undefined, variables: Vars): { resolved: Record<string, unknown>; unresolved: string[] } {
    const budget: Budget = { root: name, left: MAX_COMPOSITION_RESOLUTIONS, chars: MAX_COMPOSITION_CHARS, unresolved: [] };
    return { resolved: this.expand(name, type, variables, [], budget), unresolved: budget.unresolved };
  }

  private expand(name: string, type: string | undefined, variables: Vars, stack: string[], budget: Budget): Record<string, unknown> {
    if (stack.includes(name)) throw new CompositionError('invalid_composition', `Composition cycle: ${[...stack, name].join(' → ')}`);
    if (stack.length >= MAX_COMPOSITION_DEPTH) {
      throw new CompositionError(
        'composition_too_large',
        `Composition ${budget.root} nests more than ${MAX_COMPOSITION_DEPTH} levels deep (extends, mixins and components: ${[...stack, name].join(' → ')}); flatten it`,
      );
    }
    if (--budget.left < 0) {
      throw new CompositionError(
        'composition_too_large',
        `Composition ${budget.root} expands into more than ${MAX_COMPOSITION_RESOLUTIONS} compositions (extends, mixins and components, counted each time they are used); reference fewer`,
      );
    }
    const { composition, location: where } = this.library.get(name, type);
    const vars = this.variablesFor(composition, variables, where);
    const path = [...stack, name];
    const result: Record<string, unknown> = composition.extends ? { ...this.expand(composition.extends, undefined, vars, path, budget) } : {};
    for (const mixin of composition.mixins) {
      for (const [key, value] of Object.entries(this.expand(mixin, undefined, vars, path, budget))) if (!(key in result)) result[key] = value;
    }
    for (const component of composition.components) {
      const scope = { ...vars, ...(component.vars ? (substitute(component.vars, vars) as Vars) : {}) };
      if (!this.conditionsHold(component, scope, where)) continue;
      result[component.name] = this.content(component, { ...result, ...scope }, where, path, budget);
    }
    return result;
  }

  /** Variables: declared defaults, overridden by what the caller gave; required ones must be given. */
  private variablesFor(composition: CompositionDocument, given: Vars, where: string): Vars {
    const vars: Vars = {};
    for (const [name, declaration] of Object.entries(composition.variables)) {
      if (declaration.default !== undefined) vars[name] = declaration.default;
      else if (declaration.required && given[name] === undefined) throw new CompositionError('invalid_variables', `${where}: variables.${name} is required and was not given`);
    }
    return { ...vars, ...given };
  }

  private content(component: CompositionComponent, scope: Vars, where: string, path: string[], budget: Budget): unknown {
    if (component.composition !== undefined) return this.expand(component.composition, undefined, scope, path, budget);
    const text = component.source !== undefined ? this.library.fragment(component.source, `${where}: components.${component.name}`) : (component.template ?? component.inline);
    const value = substitute(text, scope);
    const written = placeholdersIn(text);
    for (const left of [...placeholdersIn(value)].filter((name) => written.has(name))) {
      const close = closestName(left, Object.keys(scope));
      budget.unresolved.push(
        `${where}: components.${component.name}: {{ ${left} }} has no value (no variable declared or given, no earlier component by that name) and would stay as written${close === undefined ? '' : `; did you mean ${close}?`}`,
      );
    }
    if (typeof value === 'string' && (budget.chars -= value.length) < 0) {
      throw new CompositionError(
        'composition_too_large',
        `Composition ${budget.root} produces more than ${MAX_COMPOSITION_CHARS} characters of text (${where}: components.${component.name}); use fewer or smaller components and variables`,
      );
    }
    return value;
  }

  private conditionsHold(component: CompositionComponent, scope: Vars, where: string): boolean {
    const test = (expression: string) => this.evaluate(expression, scope, `${where}: components.${component.name}`);
    if (component.condition !== undefined && !test(component.condition)) return false;
    const { all_of = [], any_of, none_of = [] } = component.conditions ?? {};
    return all_of.every(test) && (any_of === undefined || any_of.some(test)) && !none_of.some(test);
  }

  /** `{{ x }}` in a condition refers to the variable x itself, so `{{ role }} == 'judge'` compares strings. */
  private evaluate(expression: string, scope: Vars, where: string): boolean {
    try {
      return Boolean(jexl.evalSync(expression.replace(PLACEHOLDER, (_match, name: string) => name), scope));
    } catch (error) {
      throw new CompositionError('invalid_composition', `${where}: condition "${expression}" cannot be evaluated: ${(error as Error).message}`);
    }
  }
}
