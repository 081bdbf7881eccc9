import { Injectable } from '@nestjs/common';
import {
  agentResult,
  orchestrationGetInstance,
  orchestrationListPatterns,
  orchestrationLoadPattern,
  orchestrationMessage,
  orchestrationStart,
  orchestrationStatus,
  orchestrationTerminate,
  type HandlerResult,
  type ParamsOut,
  type PayloadOf,
} from '../../../libs/client/src';
import type { EventContext } from '../../events/event-context';
import { Handles, Listens } from '../../events/handles.decorator';
import { OrchestrationService } from './orchestration.service';

@Injectable()
export class OrchestrationHandlers {
  constructor(private readonly orchestrations: OrchestrationService) {}

  @Handles(orchestrationStart)
  async start({ pattern, vars }: ParamsOut<typeof orchestrationStart>, context: EventContext): Promise<HandlerResult<typeof orchestrationStart>> {
    const instance = await this.orchestrations.start(pattern, vars, context);
    return { orchestration_id: instance.orchestration_id, status: 'started', agents: Object.values(instance.agents) };
  }

  @Handles(orchestrationMessage, { agentParams: { from_agent: 'self' } })
  message({ from_agent, payload }: ParamsOut<typeof orchestrationMessage>): Promise<HandlerResult<typeof orchestrationMessage>> {
    return this.orchestrations.route(from_agent, typeof payload.text === 'string' ? payload.text : JSON.stringify(payload));
  }

  @Handles(orchestrationStatus)
  async status({ orchestration_id }: ParamsOut<typeof orchestrationStatus>): Promise<HandlerResult<typeof orchestrationStatus>> {
    if (orchestration_id) return this.orchestrations.summaryOf(orchestration_id);
    return { orchestrations: await this.orchestrations.all() };
  }

  @Handles(orchestrationTerminate)
  terminate({ orchestration_id }: ParamsOut<typeof orchestrationTerminate>, context: EventContext): Promise<HandlerResult<typeof orchestrationTerminate>> {
    return this.orchestrations.terminate(orchestration_id, 'requested', context.agentId);
  }

  @Handles(orchestrationListPatterns)
  listPatterns(): HandlerResult<typeof orchestrationListPatterns> {
    return { patterns: this.orchestrations.patterns(), patterns_dir: this.orchestrations.patternsDir };
  }

  @Handles(orchestrationLoadPattern)
  loadPattern({ pattern }: ParamsOut<typeof orchestrationLoadPattern>): HandlerResult<typeof orchestrationLoadPattern> {
    return { status: 'loaded', pattern: this.orchestrations.load(pattern) };
  }

  @Handles(orchestrationGetInstance)
  getInstance({ orchestration_id }: ParamsOut<typeof orchestrationGetInstance>): Promise<HandlerResult<typeof orchestrationGetInstance>> {
    return this.orchestrations.get(orchestration_id);
  }

  @Listens(agentResult)
  async onAgentResult({ agent_id, text, in_reply_to }: PayloadOf<typeof agentResult>): Promise<void> {
    await this.orchestrations.routeResult({ agentId: agent_id, text, inReplyTo: in_reply_to });
  }
}
