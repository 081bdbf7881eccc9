import { Inject, Injectable } from '@nestjs/common';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { compositionDocument, type CompositionDocument } from '../../../libs/client/src';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { CompositionError } from './composition.error';

export interface LoadedComposition {
  composition: CompositionDocument;
  /** Relative to the compositions folder; null for dynamic compositions. */
  file: string | null;
}

/** The YAML compositions under `$KSI_LIB_DIR/compositions`, loaded and validated. */
@Injectable()
export class CompositionLibrary {
  readonly root: string;
  readonly fragmentsDir: string;
  private byName = new Map<string, LoadedComposition[]>();
  private problems: string[] = [];

  constructor(@Inject(KSI_CONFIG) config: KsiConfig) {
    this.root = path.join(config.libDir, 'compositions');
    this.fragmentsDir = path.join(this.root, 'fragments');
  }

  /** Reads every YAML file again; a broken file is reported and left out, never fatal. */
  load(dynamic: CompositionDocument[] = []): { loaded: number; problems: string[] } {
    const byName = new Map<string, LoadedComposition[]>();
    const problems: string[] = [];
    const add = (entry: LoadedComposition) => byName.set(entry.composition.name, [...(byName.get(entry.composition.name) ?? []), entry]);
    for (const file of this.yamlFiles()) {
      try {
        add({ composition: this.parseFile(file), file });
      } catch (error) {
        problems.push((error as Error).message);
      }
    }
    for (const composition of dynamic) add({ composition, file: null });
    this.byName = byName;
    this.problems = problems;
    return { loaded: [...byName.values()].flat().length, problems };
  }

  get loadProblems(): string[] {
    return this.problems;
  }

  all(): LoadedComposition[] {
    return [...this.byName.values()].flat();
  }

  /** By name; with a type, the composition of that type wins. Dynamic compositions win over files. */
  get(name: string, type?: string): LoadedComposition {
    const candidates = this.byName.get(name) ?? [];
    const ordered = [...candidates.filter((c) => c.file === null), ...candidates.filter((c) => c.file !== null)];
    const found = (type && ordered.find((c) => c.composition.type === type)) || ordered[0];
    if (!found) throw new CompositionError('not_found', `Composition not found: ${name}${type ? ` (type ${type})` : ''}`);
    return found;
  }

  /** A Markdown fragment, by path relative to `compositions/fragments`; never outside it. */
  fragment(source: string, from: string): string {
    const file = path.resolve(this.fragmentsDir, source);
    if (!file.startsWith(this.fragmentsDir + path.sep)) throw new CompositionError('invalid_composition', `${from}: source ${source} points outside the fragments folder`);
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      throw new CompositionError('not_found', `${from}: fragment not found: ${source} (looked in ${this.fragmentsDir})`);
    }
  }

  validate(body: unknown, where: string): CompositionDocument {
    const parsed = compositionDocument.safeParse(body);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    const field = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    throw new CompositionError('invalid_composition', `${where}: ${field}: ${issue.message}`);
  }

  private parseFile(file: string): CompositionDocument {
    let body: unknown;
    try {
      body = parse(fs.readFileSync(path.join(this.root, file), 'utf8'));
    } catch (error) {
      throw new CompositionError('invalid_composition', `${file}: not valid YAML: ${(error as Error).message.split('\n')[0]}`);
    }
    return this.validate(body, file);
  }

  private yamlFiles(): string[] {
    if (!fs.existsSync(this.root)) return [];
    return (fs.readdirSync(this.root, { recursive: true }) as string[])
      .filter((file) => /\.ya?ml$/.test(file) && !file.startsWith(`fragments${path.sep}`))
      .sort();
  }
}
