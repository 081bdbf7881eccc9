import { Injectable } from '@nestjs/common';
import type { ApprovalStatus } from '../../../libs/client/src';
import { sql } from '../../database/sql-statement';
import { Storage } from '../../database/storage';
import type { ApprovalRule } from './approval-rule.entity';
import type { Approval } from './approval.entity';

const columns = `approval_id AS "approvalId", agent_id AS "agentId", tool_name AS "toolName", input, subject, tool_use_id AS "toolUseId", status, reason,
  decided_by AS "decidedBy", remember, requested_at AS "requestedAt", timeout_at AS "timeoutAt", decided_at AS "decidedAt", answered_at AS "answeredAt", node_id AS "nodeId"`;

const statements = {
  insert: sql(
    `INSERT INTO approvals (approval_id, agent_id, tool_name, input, subject, tool_use_id, status, reason, decided_by, remember, requested_at, timeout_at, decided_at, answered_at, node_id)
     VALUES (@approvalId, @agentId, @toolName, @input, @subject, @toolUseId, @status, @reason, @decidedBy, @remember, @requestedAt, @timeoutAt, @decidedAt, @answeredAt, @nodeId)`,
  ),
  byId: sql(`SELECT ${columns} FROM approvals WHERE approval_id = ?`),
  byStatus: sql(`SELECT ${columns} FROM approvals WHERE status = ? ORDER BY requested_at, approval_id`),
  // The agent's request for this subject, asked on this node, that no call has had the answer of yet: pending, or decided while nobody waited.
  unanswered: sql(
    `SELECT ${columns} FROM approvals WHERE agent_id = ? AND subject = ? AND answered_at IS NULL AND (node_id = ? OR node_id IS NULL) ORDER BY requested_at LIMIT 1`,
  ),
  // Those asked on another node (a request of before nodes were recorded has none, and stays as it was).
  unansweredElsewhere: sql(`SELECT ${columns} FROM approvals WHERE agent_id = ? AND answered_at IS NULL AND node_id <> ?`),
  decide: sql(
    `UPDATE approvals SET status = @status, reason = @reason, decided_by = @decidedBy, remember = @remember, decided_at = @now
     WHERE approval_id = @approvalId AND status = 'pending'`,
  ),
  answered: sql('UPDATE approvals SET answered_at = ? WHERE approval_id = ? AND answered_at IS NULL'),
  withdraw: sql(`UPDATE approvals SET status = 'withdrawn', reason = @reason, decided_by = 'withdrawn', decided_at = @now WHERE approval_id = @approvalId AND status = 'pending'`),
  rulesOf: sql('SELECT agent_id AS "agentId", subject, decision, created_at AS "createdAt" FROM approval_rules WHERE agent_id = ?'),
  addRule: sql(
    `INSERT INTO approval_rules (agent_id, subject, decision, created_at) VALUES (@agentId, @subject, @decision, @createdAt)
     ON CONFLICT (agent_id, subject) DO UPDATE SET decision = excluded.decision, created_at = excluded.created_at`,
  ),
};

/** The signal nodes sharing a database send each other when an approval request was made, decided or withdrawn. */
const CHANGED_SIGNAL = 'ksi_approvals';

/** What a node announces: which request changed, and that it did (its row says how). */
interface ApprovalNote {
  from: string;
  approvalId: string;
}

/** Every query of `approvals` and `approval_rules`. Times are epoch ms; writes resolve once committed. */
@Injectable()
export class ApprovalRepository {
  constructor(private readonly storage: Storage) {}

  /** Tells the nodes sharing the database that a request changed (nothing on SQLite). */
  async announce(note: ApprovalNote): Promise<void> {
    await this.storage.signal(CHANGED_SIGNAL, JSON.stringify(note));
  }

  /** Calls `listener` for each change a node announced, this one's included. */
  onAnnounced(listener: (note: ApprovalNote) => void): void {
    this.storage.onSignal(CHANGED_SIGNAL, (payload) => listener(JSON.parse(payload) as ApprovalNote));
  }

  /** See Storage.onSignalsMissed. */
  onSignalsMissed(listener: () => void): void {
    this.storage.onSignalsMissed(listener);
  }

  async insert(approval: Approval): Promise<void> {
    await this.storage.writeStatement(statements.insert, approval);
  }

  byId(approvalId: string): Promise<Approval | undefined> {
    return this.storage.get<Approval>(statements.byId, [approvalId]);
  }

  /** Oldest first. */
  withStatus(status: ApprovalStatus): Promise<Approval[]> {
    return this.storage.all<Approval>(statements.byStatus, [status]);
  }

  unanswered(agentId: string, subject: string, nodeId: string): Promise<Approval | undefined> {
    return this.storage.get<Approval>(statements.unanswered, [agentId, subject, nodeId]);
  }

  /**
   * Closes the agent's requests that no call has had the answer of, asked on another node than
   * `nodeId`: pending ones are withdrawn, saying `reason(the node asked on)`, and none answers a later
   * call. Returns those withdrawn.
   */
  closeElsewhere(agentId: string, nodeId: string, now: number, reason: (askedOn: string) => string): Promise<Approval[]> {
    return this.storage.write(async (tx) => {
      const withdrawn: Approval[] = [];
      for (const approval of await tx.all<Approval>(statements.unansweredElsewhere, [agentId, nodeId])) {
        if ((await tx.run(statements.withdraw, { approvalId: approval.approvalId, reason: reason(approval.nodeId!), now })) > 0) withdrawn.push(approval);
        await tx.run(statements.answered, [now, approval.approvalId]);
      }
      return withdrawn;
    });
  }

  /**
   * Decides a pending request, and with `rule` remembers the decision for the agent, together; false
   * when it was no longer pending.
   */
  decide(decision: Pick<Approval, 'approvalId' | 'status' | 'reason' | 'decidedBy' | 'remember'> & { now: number }, rule?: ApprovalRule): Promise<boolean> {
    return this.storage.write(async (tx) => {
      if ((await tx.run(statements.decide, decision)) === 0) return false;
      if (rule) await tx.run(statements.addRule, rule);
      return true;
    });
  }

  async markAnswered(approvalId: string, now: number): Promise<void> {
    await this.storage.writeStatement(statements.answered, [now, approvalId]);
  }

  rulesOf(agentId: string): Promise<ApprovalRule[]> {
    return this.storage.all<ApprovalRule>(statements.rulesOf, [agentId]);
  }
}
