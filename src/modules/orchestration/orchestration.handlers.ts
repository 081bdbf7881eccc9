import { Injectable } from '@nestjs/common';
import {
  agentResultParams,
  noOrchestrationParams,
  orchestrationIdParams,
  orchestrationMessageParams,
  orchestrationStartParams,
  orchestrationStatusParams,
  patternParams,
  type z,
} from '../../../libs/client/src';
import type { EventContext } from '../../events/event-context';
import { Handles } from '../../events/handles.decorator';
import { OrchestrationService } from './orchestration.service';

@Injectable()
export class OrchestrationHandlers {
  constructor(private readonly orchestrations: OrchestrationService) {}

  @Handles('orchestration:start', { summary: "Start a pattern: spawn its agents and send the first turn", params: orchestrationStartParams })
  async start({ pattern, vars }: z.output<typeof orchestrationStartParams>, context: EventContext) {
    const instance = await this.orchestrations.start(pattern, vars, context);
    return { orchestration_id: instance.orchestration_id, status: 'started', agents: Object.values(instance.agents) };
  }

  @Handles('orchestration:message', {
    summary: 'Route a message from an agent as if it replied (strict turns apply)',
    params: orchestrationMessageParams,
    agentParams: { from_agent: 'self' },
  })
  message({ from_agent, payload }: z.output<typeof orchestrationMessageParams>) {
    return this.orchestrations.route(from_agent, typeof payload.text === 'string' ? payload.text : JSON.stringify(payload));
  }

  @Handles('orchestration:status', { summary: 'One instance (state running|terminated, and why), or all', params: orchestrationStatusParams })
  status({ orchestration_id }: z.output<typeof orchestrationStatusParams>) {
    if (orchestration_id) return this.orchestrations.summary(this.orchestrations.get(orchestration_id));
    return { orchestrations: this.orchestrations.all().map((instance) => this.orchestrations.summary(instance)) };
  }

  @Handles('orchestration:terminate', { summary: 'Stop an instance and its agents', params: orchestrationIdParams })
  async terminate({ orchestration_id }: z.output<typeof orchestrationIdParams>) {
    return this.orchestrations.summary(await this.orchestrations.terminate(orchestration_id, 'requested'));
  }

  @Handles('orchestration:list_patterns', { summary: 'The patterns under compositions/orchestrations', params: noOrchestrationParams })
  listPatterns() {
    return { patterns: this.orchestrations.patterns(), patterns_dir: this.orchestrations.patternsDir };
  }

  @Handles('orchestration:load_pattern', { summary: 'A pattern as written', params: patternParams })
  loadPattern({ pattern }: z.output<typeof patternParams>) {
    return { status: 'loaded', pattern: this.orchestrations.load(pattern) };
  }

  @Handles('orchestration:get_instance', { summary: 'An instance with its transcript', params: orchestrationIdParams })
  getInstance({ orchestration_id }: z.output<typeof orchestrationIdParams>) {
    const instance = this.orchestrations.get(orchestration_id);
    return { ...this.orchestrations.summary(instance), transcript: instance.transcript };
  }

  @Handles('agent:result', { summary: "An agent's reply, for routing", params: agentResultParams, internal: true })
  async onAgentResult({ agent_id, text }: z.output<typeof agentResultParams>) {
    await this.orchestrations.route(agent_id, text);
    return undefined;
  }
}
