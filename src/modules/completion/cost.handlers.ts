import { Injectable } from '@nestjs/common';
import { costAgentParams, costSummaryParams, SINCE_FORMAT, type CostSummaryResult, type CostTotals, type z } from '../../../libs/client/src';
import { Handles } from '../../events/handles.decorator';
import { CostService } from './cost.service';

@Injectable()
export class CostHandlers {
  constructor(private readonly costs: CostService) {}

  @Handles('cost:summary', {
    summary: `What completions cost (USD, tokens, requests, turns) by agent, profile, session (a chain under its root), model or day (UTC), with totals; since: ${SINCE_FORMAT}`,
    params: costSummaryParams,
  })
  summary({ by, since }: z.output<typeof costSummaryParams>): CostSummaryResult {
    return this.costs.summary(by, since);
  }

  @Handles('cost:agent_totals', { summary: "What an agent's completions cost, for agent:info", params: costAgentParams, internal: true })
  agentTotals({ agent_id }: z.output<typeof costAgentParams>): CostTotals {
    return this.costs.ofAgent(agent_id);
  }
}
