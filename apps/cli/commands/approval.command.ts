import { Command, Option } from 'nest-commander';
import { APPROVAL_STATUSES, type ApprovalRecord, type ApprovalStatus } from '../../../libs/client/src';
import { orFail, usageError } from '../cli-error';
import { DataCommand, type OutputOptions } from '../ksi-command';
import { dim, table } from '../output';

interface ApprovalsOptions extends OutputOptions {
  status?: string;
}

interface DecideOptions extends OutputOptions {
  reason?: string;
  remember?: boolean;
}

const when = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString();

@Command({ name: 'approvals', description: "Tool calls waiting for a decision (ksi approve ID / ksi deny ID); --status for decided ones" })
export class ApprovalsCommand extends DataCommand<ApprovalsOptions> {
  @Option({ flags: '--status <status>', description: `${APPROVAL_STATUSES.join(', ')} (default pending)` })
  parseStatus(value: string): string {
    return value;
  }

  protected async execute(_params: string[], options: ApprovalsOptions): Promise<void> {
    const status = options.status ?? 'pending';
    // nest-commander skips commander's `choices` check when the option has a parser.
    if (!APPROVAL_STATUSES.includes(status as ApprovalStatus)) throw usageError(`--status must be one of ${APPROVAL_STATUSES.join(', ')}; got ${JSON.stringify(status)}`);
    const { approvals } = orFail(await this.withClient(options, (client) => client.sendSingle('approval:list', { status: status as ApprovalStatus })));
    this.print(options, { approvals }, (wide) => render(approvals, status, wide));
  }
}

function render(approvals: ApprovalRecord[], status: string, wide: boolean): string {
  if (approvals.length === 0) return `No ${status} approvals`;
  const rows = [['ID', 'AGENT', 'CALL', 'REQUESTED', status === 'pending' ? 'DENIED AT' : 'DECIDED BY', ...(wide ? ['TOOL USE', 'REASON'] : [])]].concat(
    approvals.map((a) => [
      a.approval_id,
      a.agent_id,
      wide || a.subject.length <= 80 ? a.subject : `${a.subject.slice(0, 77)}...`,
      when(a.requested_at),
      status === 'pending' ? when(a.timeout_at) : (a.decided_by ?? dim('-')),
      ...(wide ? [a.tool_use_id ?? dim('-'), a.reason ?? dim('-')] : []),
    ]),
  );
  return table(rows);
}

/** approve and deny: the same request, two decisions. */
abstract class DecideCommand extends DataCommand<DecideOptions> {
  protected abstract readonly decision: 'allow' | 'deny';

  @Option({ flags: '--reason <text>', description: 'why (the model reads it on deny)' })
  parseReason(value: string): string {
    return value;
  }

  @Option({ flags: '--remember', description: "decide this agent's later calls with the same subject the same way" })
  parseRemember(): boolean {
    return true;
  }

  protected async execute([approvalId]: string[], options: DecideOptions): Promise<void> {
    const data = { approval_id: approvalId, decision: this.decision, remember: options.remember === true, ...(options.reason !== undefined && { reason: options.reason }) };
    const decided = orFail(await this.withClient(options, (client) => client.sendSingle('approval:decide', data)));
    this.print(options, decided, () => `${decided.status} ${decided.subject} for ${decided.agent_id}${decided.remember ? ' (remembered)' : ''}`);
  }
}

@Command({ name: 'approve', arguments: '<approval_id>', description: 'Allow a waiting tool call' })
export class ApproveCommand extends DecideCommand {
  protected readonly decision = 'allow';
}

@Command({ name: 'deny', arguments: '<approval_id>', description: 'Deny a waiting tool call (--reason tells the model why)' })
export class DenyCommand extends DecideCommand {
  protected readonly decision = 'deny';
}

export const approvalCommands = [ApprovalsCommand, ApproveCommand, DenyCommand];
