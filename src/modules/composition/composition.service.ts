import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import {
  permissionGetProfile,
  permissionReloadProfiles,
  type ComposedProfile,
  type CompositionDocument,
  type CompositionSummary,
  type compositionCreate,
  type compositionDiscover,
  type compositionGet,
  type compositionSelect,
  type compositionValidate,
  type HandlerResult,
  type ParamsOut,
} from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { EventBus } from '../../events/event-bus';
import { EventError } from '../../events/event-error';
import { DAEMON_LOG } from '../../logging/logger';
import { CompositionLibrary, type LoadedComposition } from './composition.library';
import { CompositionResolver } from './composition.resolver';
import { CompositionError } from './composition.error';
import { CompositionRepository, type IndexEntry } from './composition.repository';

type Vars = Record<string, unknown>;

const stringList = (value: unknown): string[] => (Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);

/** Compositions: resolution, the index (rebuilt at start and on reload), selection and run-time creation. */
@Injectable()
export class CompositionService implements OnModuleInit {
  private lastReload: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly compositions: CompositionRepository,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(DAEMON_LOG) private readonly log: Logger,
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    private readonly library: CompositionLibrary,
    private readonly resolver: CompositionResolver,
    private readonly bus: EventBus,
  ) {}

  async onModuleInit(): Promise<void> {
    const { problems } = await this.reload();
    for (const problem of problems) this.log.warn({ problem }, 'composition left out');
  }

  /**
   * composition:reload: the whole library, the permission profiles the compositions name as well,
   * so a fixed profile file is picked up and a broken one reported in the same place.
   */
  async reloadLibrary(): Promise<{ indexed: number; problems: string[] }> {
    const [{ indexed, problems }, permissions] = await Promise.all([this.reload(), this.bus.requestOne(permissionReloadProfiles, {})]);
    return { indexed, problems: [...problems, ...permissions.problems] };
  }

  /**
   * Reads the library from disk again and rebuilds the index, one reload at a time: the stored
   * compositions are read asynchronously, and a reload that read them earlier must not load the
   * library after one that read them later (composition:create would then miss its own).
   */
  reload(): Promise<{ indexed: number; problems: string[] }> {
    const reload = this.lastReload.catch(() => undefined).then(() => this.reloadNow());
    this.lastReload = reload;
    return reload;
  }

  private async reloadNow(): Promise<{ indexed: number; problems: string[] }> {
    const dynamic = (await this.compositions.dynamicBodies()).map((body) => JSON.parse(body) as CompositionDocument);
    const { loaded, problems } = this.library.load(dynamic);
    const now = this.clock.now();
    const rows = this.library.all().map(({ composition, file }) => ({
      name: composition.name,
      type: composition.type,
      version: composition.version,
      description: composition.description,
      author: composition.author ?? null,
      extends: composition.extends ?? null,
      role: typeof composition.metadata.role === 'string' ? composition.metadata.role : null,
      tags: JSON.stringify(stringList(composition.metadata.tags)),
      capabilities: JSON.stringify(stringList(composition.metadata.capabilities)),
      source: file === null ? 'dynamic' : 'file',
      filePath: file,
      indexedAt: now,
    }));
    await this.compositions.replaceIndex(rows);
    return { indexed: loaded, problems };
  }

  compose(name: string, type: string | undefined, variables: Vars): Record<string, unknown> {
    return this.guard(() => this.resolver.resolve(name, type, variables));
  }

  /** A profile with the keys agents use at its top level: model, prompt, permission_profile, role, capabilities. */
  profile(name: string, variables: Vars): ComposedProfile {
    return this.profileOf(name, this.compose(name, 'profile', variables));
  }

  private profileOf(name: string, resolved: Record<string, unknown>): ComposedProfile {
    return {
      ...resolved,
      name: typeof resolved.name === 'string' ? resolved.name : name,
      type: 'profile',
      model: typeof resolved.model === 'string' ? resolved.model : this.config.defaultModel,
      prompt: typeof resolved.prompt === 'string' ? resolved.prompt : '',
      permission_profile: typeof resolved.permission_profile === 'string' ? resolved.permission_profile : 'standard',
      role: typeof resolved.role === 'string' ? resolved.role : 'assistant',
      capabilities: stringList(resolved.capabilities),
    };
  }

  /** A prompt composition's components joined in order (non-strings as JSON), separated by blank lines. */
  prompt(name: string, variables: Vars): string {
    const resolved = this.compose(name, 'prompt', variables);
    return Object.values(resolved)
      .map((value) => (typeof value === 'string' ? value.trim() : JSON.stringify(value, null, 2)))
      .filter((text) => text.length > 0)
      .join('\n\n');
  }

  /**
   * What composing it with these variables would get wrong: its file, its resolution, placeholders
   * left without a value, and (for a profile) a permission profile that is unknown or left out.
   */
  async validate(name: string, type: string | undefined, variables: Vars): Promise<HandlerResult<typeof compositionValidate>> {
    let checked: ReturnType<CompositionResolver['check']>;
    let loaded: LoadedComposition;
    try {
      loaded = this.library.get(name, type);
      checked = this.resolver.check(name, type, variables);
    } catch (error) {
      if (!(error instanceof CompositionError)) throw error;
      return { status: 'error', valid: false, issues: [error.message] };
    }
    const { composition, location } = loaded;
    const issues = [...checked.unresolved];
    if (composition.type === 'profile') {
      const level = this.profileOf(name, checked.resolved).permission_profile;
      const refusal = await this.bus.requestOne(permissionGetProfile, { level }).then(
        () => undefined,
        (error: unknown) => {
          if (error instanceof EventError) return error.message;
          throw error;
        },
      );
      if (refusal !== undefined) issues.push(`${location}: permission_profile: ${refusal}`);
    }
    if (issues.length > 0) return { status: 'error', valid: false, issues };
    return { status: 'success', valid: true, issues: [], composition: { name: composition.name, type: composition.type, version: composition.version } };
  }

  get(name: string, type?: string): HandlerResult<typeof compositionGet>['composition'] {
    const { composition, file } = this.guard(() => this.library.get(name, type));
    return {
      ...composition,
      file_path: file,
      components: composition.components.map((component) => ({
        name: component.name,
        kind: component.source !== undefined ? 'source' : component.composition !== undefined ? 'composition' : component.template !== undefined ? 'template' : 'inline',
        ...(component.source !== undefined && { source: component.source }),
        ...(component.composition !== undefined && { composition: component.composition }),
        ...(component.condition !== undefined && { condition: component.condition }),
      })),
    };
  }

  async list(type: string): Promise<CompositionSummary[]> {
    return (await this.compositions.list(type === 'all' ? undefined : type)).map(toSummary);
  }

  async discover(filters: ParamsOut<typeof compositionDiscover>): Promise<CompositionSummary[]> {
    const entries = await this.compositions.discover({
      type: filters.type ?? null,
      name: filters.name ?? null,
      role: filters.role ?? null,
      capabilities: JSON.stringify(filters.capabilities),
      tags: JSON.stringify(filters.tags),
    });
    return entries.map(toSummary);
  }

  /** The best profile for a role, capabilities and task; base_agent when nothing scores. */
  async select(request: ParamsOut<typeof compositionSelect>): Promise<HandlerResult<typeof compositionSelect>> {
    const words = (request.task ?? '').toLowerCase().match(/[a-z]{4,}/g) ?? [];
    const scored = (await this.list('profile'))
      .map((profile) => {
        const reasons: string[] = [];
        let score = 0;
        if (request.role && profile.role === request.role) (score += 30), reasons.push(`role ${request.role}`);
        if (request.capabilities.length > 0) {
          const matched = request.capabilities.filter((capability) => profile.capabilities.includes(capability));
          if (matched.length > 0) (score += (matched.length / request.capabilities.length) * 25), reasons.push(`capabilities ${matched.join(', ')}`);
        }
        const text = `${profile.description} ${profile.tags.join(' ')}`.toLowerCase();
        const hits = [...new Set(words.filter((word) => text.includes(word)))];
        if (hits.length > 0) (score += Math.min(15, hits.length * 5)), reasons.push(`task words ${hits.join(', ')}`);
        return { name: profile.name, score: Math.round(score * 10) / 10, reasons };
      })
      .filter((candidate) => candidate.score > 0)
      .sort((a, b) => b.score - a.score || a.name.localeCompare(b.name));
    const best = scored[0];
    const fallback = { selected: 'base_agent', score: 0, reasons: ['Fallback: no profile matched'], fallback_used: true };
    return {
      status: 'success',
      ...(best ? { selected: best.name, score: best.score, reasons: best.reasons, fallback_used: false } : fallback),
      ...(request.max_suggestions > 1 && { suggestions: scored.slice(0, request.max_suggestions) }),
    };
  }

  /** Stores a new composition (validated, resolvable) that survives restarts. */
  async create(request: ParamsOut<typeof compositionCreate>): Promise<HandlerResult<typeof compositionCreate>> {
    const name = request.name ?? `dynamic_${randomBytes(4).toString('hex')}`;
    const components =
      request.components ??
      [
        request.model !== undefined && { name: 'model', inline: request.model },
        request.role !== undefined && { name: 'role', inline: request.role },
        request.capabilities !== undefined && { name: 'capabilities', inline: request.capabilities },
        request.permission_profile !== undefined && { name: 'permission_profile', inline: request.permission_profile },
        request.prompt !== undefined && { name: 'prompt', template: request.prompt },
      ].filter(Boolean);
    const body = {
      name,
      type: request.type,
      version: '1.0.0',
      description: request.description,
      author: 'dynamic',
      ...((request.extends ?? (request.type === 'profile' ? 'base_agent' : undefined)) && { extends: request.extends ?? 'base_agent' }),
      components,
      metadata: request.metadata,
    };
    const composition = this.guard(() => this.library.validate(body, `composition:create ${name}`));
    await this.compositions.saveDynamic(name, JSON.stringify(composition), this.clock.now());
    await this.reload();
    this.guard(() => this.resolver.resolve(name, request.type, {}));
    return { status: 'success', name, composition };
  }

  /** Composition mistakes become application errors with their code. */
  private guard<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      if (error instanceof CompositionError) throw new EventError(error.code, error.message);
      throw error;
    }
  }
}

function toSummary({ filePath, tags, capabilities, source, ...entry }: IndexEntry): CompositionSummary {
  return {
    ...entry,
    tags: JSON.parse(tags) as string[],
    capabilities: JSON.parse(capabilities) as string[],
    source: source as CompositionSummary['source'],
    file_path: filePath,
  };
}
