import { Module } from '@nestjs/common';
import { BudgetHandlers } from './budget.handlers';
import { BudgetRepository } from './budget.repository';
import { BudgetService } from './budget.service';

@Module({ providers: [BudgetRepository, BudgetService, BudgetHandlers] })
export class BudgetModule {}
