import { Injectable } from '@nestjs/common';
import { budgetCheck, budgetList, budgetRemove, budgetSet, budgetStatusEvent, type HandlerResult, type ParamsOut } from '../../../libs/client/src';
import { Handles } from '../../events/handles.decorator';
import { BudgetService } from './budget.service';

@Injectable()
export class BudgetHandlers {
  constructor(private readonly budgets: BudgetService) {}

  @Handles(budgetSet)
  set(params: ParamsOut<typeof budgetSet>): Promise<HandlerResult<typeof budgetSet>> {
    return this.budgets.set(params);
  }

  @Handles(budgetRemove)
  async remove({ scope, id }: ParamsOut<typeof budgetRemove>): Promise<HandlerResult<typeof budgetRemove>> {
    return { removed: await this.budgets.remove(scope, id) };
  }

  @Handles(budgetList)
  async list(): Promise<HandlerResult<typeof budgetList>> {
    return { budgets: await this.budgets.list() };
  }

  @Handles(budgetStatusEvent)
  status({ scope, id }: ParamsOut<typeof budgetStatusEvent>): Promise<HandlerResult<typeof budgetStatusEvent>> {
    return this.budgets.status(scope, id);
  }

  @Handles(budgetCheck)
  check(params: ParamsOut<typeof budgetCheck>): Promise<HandlerResult<typeof budgetCheck>> {
    return this.budgets.check(params);
  }
}
