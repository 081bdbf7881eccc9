import { Command, Option, SubCommand } from 'nest-commander';
import { BUDGET_PERIODS, BUDGET_SCOPES, type BudgetPeriod, type BudgetScope, type BudgetStatus } from '../../../libs/client/src';
import { orFail, usageError } from '../cli-error';
import { CommandGroup, DataCommand, KsiCommand, type OutputOptions, type SocketOptions } from '../ksi-command';
import { dim, table } from '../output';

interface BudgetSetOptions extends OutputOptions {
  limit?: string;
  period?: string;
}

/** `<scope> [id]` as the daemon takes them: an id for agent and profile, none for global. */
function target([scope, id, ...rest]: string[]): { scope: BudgetScope; id?: string } {
  if (!BUDGET_SCOPES.includes(scope as BudgetScope)) throw usageError(`The scope must be one of ${BUDGET_SCOPES.join(', ')}; got ${JSON.stringify(scope)}`);
  if (scope === 'global' && id !== undefined) throw usageError('A global budget takes no id');
  if (scope !== 'global' && id === undefined) throw usageError(`A ${scope} budget needs the ${scope === 'agent' ? 'agent id' : 'profile name'}: ksi budget ... ${scope} <id>`);
  if (rest.length > 0) throw usageError(`Unexpected arguments: ${rest.join(' ')}`);
  return { scope: scope as BudgetScope, ...(id !== undefined && { id }) };
}

const usd = (value: number) => `$${value.toFixed(4)}`;
const when = (epochSeconds: number | null) => (epochSeconds === null ? dim('-') : new Date(epochSeconds * 1000).toISOString());

function render(budgets: BudgetStatus[]): string {
  if (budgets.length === 0) return 'No budgets';
  const rows = [['SCOPE', 'ID', 'PERIOD', 'LIMIT', 'SPENT', 'REMAINING', 'STATE', 'PERIOD ENDS']].concat(
    budgets.map((b) => [b.scope, b.id ?? dim('-'), b.period, usd(b.limit_usd), usd(b.spent_usd), usd(b.remaining_usd), b.exhausted ? 'exhausted' : 'ok', when(b.period_end)]),
  );
  return table(rows);
}

@SubCommand({ name: 'set', arguments: '<scope> [id]', description: 'Set the limit of an agent, a profile or everything (global): ksi budget set agent worker-1 --limit 5 --period day' })
export class BudgetSetCommand extends DataCommand<BudgetSetOptions> {
  @Option({ flags: '--limit <usd>', description: 'the most it may spend per period, in USD', required: true })
  parseLimit(value: string): string {
    return value;
  }

  @Option({ flags: '--period <period>', description: `${BUDGET_PERIODS.join(', ')} (default total; day and month are UTC)` })
  parsePeriod(value: string): string {
    return value;
  }

  protected async execute(params: string[], options: BudgetSetOptions): Promise<void> {
    const limit = Number(options.limit);
    if (options.limit === undefined || options.limit.trim() === '' || !Number.isFinite(limit) || limit < 0) throw usageError(`--limit must be an amount in USD, 0 or more; got ${JSON.stringify(options.limit)}`);
    const period = options.period ?? 'total';
    // nest-commander skips commander's `choices` check when the option has a parser.
    if (!BUDGET_PERIODS.includes(period as BudgetPeriod)) throw usageError(`--period must be one of ${BUDGET_PERIODS.join(', ')}; got ${JSON.stringify(period)}`);
    const data = { ...target(params), limit_usd: limit, period: period as BudgetPeriod };
    const status = orFail(await this.withClient(options, (client) => client.sendSingle('budget:set', data)));
    this.print(options, status, () => render([status]));
  }
}

@SubCommand({ name: 'list', description: 'Every budget: spent, remaining and when its period ends' })
export class BudgetListCommand extends DataCommand {
  protected async execute(_params: string[], options: OutputOptions): Promise<void> {
    const { budgets } = orFail(await this.withClient(options, (client) => client.sendSingle('budget:list', {})));
    this.print(options, { budgets }, () => render(budgets));
  }
}

@SubCommand({ name: 'status', arguments: '<scope> [id]', description: 'One budget' })
export class BudgetStatusCommand extends DataCommand {
  protected async execute(params: string[], options: OutputOptions): Promise<void> {
    const status = orFail(await this.withClient(options, (client) => client.sendSingle('budget:status', target(params))));
    this.print(options, status, () => render([status]));
  }
}

@SubCommand({ name: 'remove', arguments: '<scope> [id]', description: 'Remove a budget; agents it stopped resume' })
export class BudgetRemoveCommand extends KsiCommand {
  protected async execute(params: string[], options: SocketOptions): Promise<void> {
    const what = target(params);
    const { removed } = orFail(await this.withClient(options, (client) => client.sendSingle('budget:remove', what)));
    const name = what.scope === 'global' ? 'the global budget' : `the budget of ${what.scope} ${what.id}`;
    process.stdout.write(removed ? `Removed ${name}\n` : `There was no such budget (${name})\n`);
  }
}

@Command({
  name: 'budget',
  description: 'Spending limits that stop agents before they overspend',
  subCommands: [BudgetSetCommand, BudgetListCommand, BudgetStatusCommand, BudgetRemoveCommand],
})
export class BudgetCommand extends CommandGroup {}

export const budgetCommands = [BudgetCommand, BudgetSetCommand, BudgetListCommand, BudgetStatusCommand, BudgetRemoveCommand];
