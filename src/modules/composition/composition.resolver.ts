import { Injectable } from '@nestjs/common';
import jexl from 'jexl';
import { PLACEHOLDER, substitute } from '../../common/placeholders';
import { CompositionLibrary } from './composition.library';
import { CompositionError, type Component, type Composition } from './composition.schema';

type Vars = Record<string, unknown>;

/**
 * Resolves a composition: parent (`extends`), then mixins (keys not yet present), then each
 * component whose conditions hold, in order. Declared variable defaults apply; placeholders are
 * substituted inside string values (never in serialised JSON), so any value is safe.
 */
@Injectable()
export class CompositionResolver {
  constructor(private readonly library: CompositionLibrary) {}

  resolve(name: string, type: string | undefined, variables: Vars, stack: string[] = []): Record<string, unknown> {
    if (stack.includes(name)) throw new CompositionError('invalid_composition', `Composition cycle: ${[...stack, name].join(' → ')}`);
    const { composition, file } = this.library.get(name, type);
    const where = file ?? `dynamic composition ${name}`;
    const vars = this.variablesFor(composition, variables, where);
    const path = [...stack, name];
    const result: Record<string, unknown> = composition.extends ? { ...this.resolve(composition.extends, undefined, vars, path) } : {};
    for (const mixin of composition.mixins) {
      for (const [key, value] of Object.entries(this.resolve(mixin, undefined, vars, path))) if (!(key in result)) result[key] = value;
    }
    for (const component of composition.components) {
      const scope = { ...vars, ...(component.vars ? (substitute(component.vars, vars) as Vars) : {}) };
      if (!this.conditionsHold(component, scope, where)) continue;
      result[component.name] = this.content(component, { ...result, ...scope }, where, path);
    }
    return result;
  }

  /** Variables: declared defaults, overridden by what the caller gave; required ones must be given. */
  private variablesFor(composition: Composition, given: Vars, where: string): Vars {
    const vars: Vars = {};
    for (const [name, declaration] of Object.entries(composition.variables)) {
      if (declaration.default !== undefined) vars[name] = declaration.default;
      else if (declaration.required && given[name] === undefined) throw new CompositionError('invalid_variables', `${where}: variables.${name} is required and was not given`);
    }
    return { ...vars, ...given };
  }

  private content(component: Component, scope: Vars, where: string, path: string[]): unknown {
    if (component.source !== undefined) return substitute(this.library.fragment(component.source, `${where}: components.${component.name}`), scope);
    if (component.composition !== undefined) return this.resolve(component.composition, undefined, scope, path);
    if (component.template !== undefined) return substitute(component.template, scope);
    return substitute(component.inline, scope);
  }

  private conditionsHold(component: Component, scope: Vars, where: string): boolean {
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
