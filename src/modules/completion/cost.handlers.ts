import { Injectable } from '@nestjs/common';
import { costAgentTotals, costSpent, costSummary, type HandlerResult, type ParamsOut } from '../../../libs/client/src';
import { Handles } from '../../events/handles.decorator';
import { CostService } from './cost.service';

@Injectable()
export class CostHandlers {
  constructor(private readonly costs: CostService) {}

  @Handles(costSummary)
  summary({ by, since }: ParamsOut<typeof costSummary>): Promise<HandlerResult<typeof costSummary>> {
    return this.costs.summary(by, since);
  }

  @Handles(costSpent)
  async spent({ since, agent_id, profile }: ParamsOut<typeof costSpent>): Promise<HandlerResult<typeof costSpent>> {
    return { cost_usd: await this.costs.spent(since, { agent_id, profile }) };
  }

  @Handles(costAgentTotals)
  agentTotals({ agent_id }: ParamsOut<typeof costAgentTotals>): Promise<HandlerResult<typeof costAgentTotals>> {
    return this.costs.ofAgent(agent_id);
  }
}
