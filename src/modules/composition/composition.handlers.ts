import { Injectable } from '@nestjs/common';
import {
  compositionCompose,
  compositionCreate,
  compositionDiscover,
  compositionGet,
  compositionList,
  compositionProfile,
  compositionPrompt,
  compositionReload,
  compositionSelect,
  compositionValidate,
  type HandlerResult,
  type ParamsOut,
} from '../../../libs/client/src';
import type { EventContext } from '../../events/event-context';
import { EventError } from '../../events/event-error';
import { Handles } from '../../events/handles.decorator';
import { CompositionService } from './composition.service';

/** Components that give an agent more than its permissions: what its workspace is, and which Claude account it runs as. */
const OPERATOR_ONLY_COMPONENTS = new Set(['repository', 'claude_config_dir']);

@Injectable()
export class CompositionHandlers {
  constructor(private readonly compositions: CompositionService) {}

  @Handles(compositionCompose)
  compose({ name, type, variables }: ParamsOut<typeof compositionCompose>): HandlerResult<typeof compositionCompose> {
    return { status: 'success', composition: this.compositions.compose(name, type, variables) };
  }

  @Handles(compositionProfile)
  profile({ name, variables }: ParamsOut<typeof compositionProfile>): HandlerResult<typeof compositionProfile> {
    return { status: 'success', profile: this.compositions.profile(name, variables) };
  }

  @Handles(compositionPrompt)
  prompt({ name, variables }: ParamsOut<typeof compositionPrompt>): HandlerResult<typeof compositionPrompt> {
    return { status: 'success', prompt: this.compositions.prompt(name, variables) };
  }

  @Handles(compositionValidate)
  validate({ name, type, variables }: ParamsOut<typeof compositionValidate>): Promise<HandlerResult<typeof compositionValidate>> {
    return this.compositions.validate(name, type, variables);
  }

  @Handles(compositionGet)
  get({ name, type }: ParamsOut<typeof compositionGet>): HandlerResult<typeof compositionGet> {
    return { status: 'success', composition: this.compositions.get(name, type) };
  }

  @Handles(compositionList)
  async list({ type }: ParamsOut<typeof compositionList>): Promise<HandlerResult<typeof compositionList>> {
    const compositions = await this.compositions.list(type);
    return { status: 'success', compositions, count: compositions.length };
  }

  @Handles(compositionDiscover)
  async discover(filters: ParamsOut<typeof compositionDiscover>): Promise<HandlerResult<typeof compositionDiscover>> {
    const compositions = await this.compositions.discover(filters);
    return { status: 'success', compositions, count: compositions.length, filtered: true };
  }

  @Handles(compositionReload)
  async reload(): Promise<HandlerResult<typeof compositionReload>> {
    const { indexed, problems } = await this.compositions.reloadLibrary();
    return { status: 'success', indexed, problems, message: `Reloaded ${indexed} compositions` };
  }

  @Handles(compositionSelect)
  select(request: ParamsOut<typeof compositionSelect>): Promise<HandlerResult<typeof compositionSelect>> {
    return this.compositions.select(request);
  }

  @Handles(compositionCreate)
  create(request: ParamsOut<typeof compositionCreate>, context: EventContext): Promise<HandlerResult<typeof compositionCreate>> {
    // A profile's repository becomes an agent's workspace, its claude_config_dir the account it runs as:
    // an agent could otherwise name any repository or login through a profile it made.
    const operatorOnly = context.agentId === undefined ? undefined : request.components?.find((component) => OPERATOR_ONLY_COMPONENTS.has(String(component.name)));
    if (operatorOnly) {
      throw new EventError('permission_denied', `Agent ${context.agentId} may not create a composition with a ${String(operatorOnly.name)} component: only the operator or a profile in the library names one`);
    }
    return this.compositions.create(request);
  }
}
