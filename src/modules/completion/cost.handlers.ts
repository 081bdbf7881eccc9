import { Injectable } from '@nestjs/common';
import { costAgentTotals, costSummary, type HandlerResult, type ParamsOut } from '../../../libs/client/src';
import { Handles } from '../../events/handles.decorator';
import { CostService } from './cost.service';

@Injectable()
export class CostHandlers {
  constructor(private readonly costs: CostService) {}

  @Handles(costSummary)
  summary({ by, since }: ParamsOut<typeof costSummary>): Promise<HandlerResult<typeof costSummary>> {
    return this.costs.summary(by, since);
  }

  @Handles(costAgentTotals)
  agentTotals({ agent_id }: ParamsOut<typeof costAgentTotals>): Promise<HandlerResult<typeof costAgentTotals>> {
    return this.costs.ofAgent(agent_id);
  }
}
