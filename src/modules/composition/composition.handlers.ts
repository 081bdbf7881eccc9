import { Injectable } from '@nestjs/common';
import {
  composeParams,
  compositionCreateParams,
  compositionDiscoverParams,
  compositionListParams,
  compositionNameParams,
  compositionSelectParams,
  noCompositionParams,
  profileParams,
  promptParams,
  type z,
} from '../../../libs/client/src';
import type { EventContext } from '../../events/event-context';
import { EventError } from '../../events/event-error';
import { Handles } from '../../events/handles.decorator';
import { CompositionService } from './composition.service';

@Injectable()
export class CompositionHandlers {
  constructor(private readonly compositions: CompositionService) {}

  @Handles('composition:compose', { summary: 'Resolve a composition (extends, mixins, components) with variables', params: composeParams })
  compose({ name, type, variables }: z.output<typeof composeParams>) {
    return { status: 'success', composition: this.compositions.compose(name, type, variables) };
  }

  @Handles('composition:profile', { summary: 'Resolve an agent profile: model, prompt, permission_profile, role, capabilities', params: profileParams })
  profile({ name, variables }: z.output<typeof profileParams>) {
    return { status: 'success', profile: this.compositions.profile(name, variables) };
  }

  @Handles('composition:prompt', { summary: 'Resolve a prompt composition to text', params: promptParams })
  prompt({ name, variables }: z.output<typeof promptParams>) {
    return { status: 'success', prompt: this.compositions.prompt(name, variables) };
  }

  @Handles('composition:validate', { summary: 'Check that a composition loads and resolves; lists what is wrong', params: compositionNameParams })
  validate({ name, type }: z.output<typeof compositionNameParams>) {
    return this.compositions.validate(name, type);
  }

  @Handles('composition:get', { summary: "A composition's definition", params: compositionNameParams })
  get({ name, type }: z.output<typeof compositionNameParams>) {
    return { status: 'success', composition: this.compositions.get(name, type) };
  }

  @Handles('composition:list', { summary: 'Compositions in the index, by type or all', params: compositionListParams })
  list({ type }: z.output<typeof compositionListParams>) {
    const compositions = this.compositions.list(type);
    return { status: 'success', compositions, count: compositions.length };
  }

  @Handles('composition:discover', { summary: 'Find compositions by type, name, role, capabilities and tags', params: compositionDiscoverParams })
  discover(filters: z.output<typeof compositionDiscoverParams>) {
    const compositions = this.compositions.discover(filters);
    return { status: 'success', compositions, count: compositions.length, filtered: true };
  }

  @Handles('composition:reload', { summary: 'Read the library from disk again and rebuild the index', params: noCompositionParams })
  async reload() {
    const { indexed, problems } = await this.compositions.reload();
    return { status: 'success', indexed, problems, message: `Reloaded ${indexed} compositions` };
  }

  @Handles('composition:select', { summary: 'The best profile for a role, capabilities and task', params: compositionSelectParams })
  select(request: z.output<typeof compositionSelectParams>) {
    return this.compositions.select(request);
  }

  @Handles('composition:create', { summary: 'Create a composition at run time (kept across restarts)', params: compositionCreateParams })
  create(request: z.output<typeof compositionCreateParams>, context: EventContext) {
    // A profile's repository becomes an agent's workspace: an agent could otherwise name any repository through a profile it made.
    if (context.agentId !== undefined && request.components?.some((component) => component.name === 'repository')) {
      throw new EventError('permission_denied', `Agent ${context.agentId} may not create a composition with a repository component: only the operator or a profile in the library names a repository`);
    }
    return this.compositions.create(request);
  }
}
