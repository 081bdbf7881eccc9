import { Inject, Injectable } from '@nestjs/common';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compositionDocument, type CompositionDocument } from '../../../libs/client/src';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { CompositionError } from './composition.error';
import { describeIssues, readLibraryFile } from '../../common/library-file';

export interface LoadedComposition {
  composition: CompositionDocument;
  /** Relative to the compositions folder; null for dynamic compositions. */
  file: string | null;
  /** How its mistakes name it: the file's full path, or "dynamic composition <name>". */
  location: string;
}

/** The YAML compositions under `$KSI_LIB_DIR/compositions`, loaded and validated. */
@Injectable()
export class CompositionLibrary {
  readonly root: string;
  readonly fragmentsDir: string;
  private byName = new Map<string, LoadedComposition[]>();
  /** Why each file left out was left out, by the names it would have been found by. */
  private broken = new Map<string, string>();

  constructor(@Inject(KSI_CONFIG) config: KsiConfig) {
    this.root = path.join(config.libDir, 'compositions');
    this.fragmentsDir = path.join(this.root, 'fragments');
  }

  /** Reads every YAML file again; a broken file is reported and left out, never fatal. */
  load(dynamic: CompositionDocument[] = []): { loaded: number; problems: string[] } {
    const byName = new Map<string, LoadedComposition[]>();
    const broken = new Map<string, string>();
    const add = (entry: LoadedComposition) => byName.set(entry.composition.name, [...(byName.get(entry.composition.name) ?? []), entry]);
    for (const file of this.yamlFiles()) {
      const location = path.join(this.root, file);
      const read = readLibraryFile(location, compositionDocument, 'name');
      if (read.ok) add({ composition: read.value, file, location });
      else for (const name of read.broken.names) broken.set(name, read.broken.problem);
    }
    for (const composition of dynamic) add({ composition, file: null, location: `dynamic composition ${composition.name}` });
    this.byName = byName;
    this.broken = broken;
    return { loaded: [...byName.values()].flat().length, problems: [...new Set(broken.values())] };
  }

  all(): LoadedComposition[] {
    return [...this.byName.values()].flat();
  }

  /**
   * By name; with a type, the composition of that type wins. Dynamic compositions win over files.
   * A name only a broken file has answers with that file's problem: it is there, but left out.
   */
  get(name: string, type?: string): LoadedComposition {
    const candidates = this.byName.get(name) ?? [];
    const ordered = [...candidates.filter((c) => c.file === null), ...candidates.filter((c) => c.file !== null)];
    const found = (type && ordered.find((c) => c.composition.type === type)) || ordered[0];
    if (found) return found;
    const broken = this.broken.get(name);
    if (broken) throw new CompositionError('invalid_composition', `Composition ${name} was left out when the library was read: ${broken}. Fix the file and send composition:reload`);
    throw new CompositionError('not_found', `Composition not found: ${name}${type ? ` (type ${type})` : ''}`);
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
    throw new CompositionError('invalid_composition', `${where}: ${describeIssues(parsed.error, compositionDocument)}`);
  }

  private yamlFiles(): string[] {
    if (!fs.existsSync(this.root)) return [];
    return (fs.readdirSync(this.root, { recursive: true }) as string[])
      .filter((file) => /\.ya?ml$/.test(file) && !file.startsWith(`fragments${path.sep}`))
      .sort();
  }
}
