import { State1763950000000 } from './1763950000000-state';
import { Completions1763960000000 } from './1763960000000-completions';
import { Lifecycle1763970000000 } from './1763970000000-lifecycle';
import { Compositions1763980000000 } from './1763980000000-compositions';
import { Permissions1763990000000 } from './1763990000000-permissions';
import { Messages1764000000000 } from './1764000000000-messages';
import { Agents1764010000000 } from './1764010000000-agents';
import { Identities1764020000000 } from './1764020000000-identities';
import { EventLog1764030000000 } from './1764030000000-event-log';
import { CompactEventLog1764040000000 } from './1764040000000-compact-event-log';
import { AgentMessageFailures1764051000000 } from './1764051000000-agent-message-failures';
import { CompletionCosts1764060000000 } from './1764060000000-completion-costs';
import { ProviderMessages1764070000000 } from './1764070000000-provider-messages';
import { SandboxGitDir1764081000000 } from './1764081000000-sandbox-git-dir';
import { Budgets1764100000000 } from './1764100000000-budgets';
import { UsageWindows1764110000000 } from './1764110000000-usage-windows';
import { Approvals1764120000000 } from './1764120000000-approvals';
import { Cluster1764130000000 } from './1764130000000-cluster';
import { Orchestrations1764140000000 } from './1764140000000-orchestrations';
import { OrchestrationStartedBy1764150000000 } from './1764150000000-orchestration-started-by';
import { ClusterNodeLeaseTtl1764160000000 } from './1764160000000-cluster-node-lease-ttl';
import { ApprovalNode1764170000000 } from './1764170000000-approval-node';
import { CompletionResultSession1764180000000 } from '../both/1764180000000-completion-result-session';
import { StateExpiryIndex1764190000000 } from '../both/1764190000000-state-expiry-index';
import { FinishedTurnsIndex1764200000000 } from '../both/1764200000000-finished-turns-index';
import { EventLogWithoutGeneratedColumns1764210000000 } from './1764210000000-event-log-without-generated-columns';
import { BudgetSpendingIndexes1764220000000 } from '../both/1764220000000-budget-spending-indexes';

/** Every migration, oldest first; run at start (the daemon never uses `synchronize`). */
export const sqliteMigrations = [
  State1763950000000,
  Completions1763960000000,
  Lifecycle1763970000000,
  Compositions1763980000000,
  Permissions1763990000000,
  Messages1764000000000,
  Agents1764010000000,
  Identities1764020000000,
  EventLog1764030000000,
  CompactEventLog1764040000000,
  AgentMessageFailures1764051000000,
  CompletionCosts1764060000000,
  ProviderMessages1764070000000,
  SandboxGitDir1764081000000,
  Budgets1764100000000,
  UsageWindows1764110000000,
  Approvals1764120000000,
  Cluster1764130000000,
  Orchestrations1764140000000,
  OrchestrationStartedBy1764150000000,
  ClusterNodeLeaseTtl1764160000000,
  ApprovalNode1764170000000,
  CompletionResultSession1764180000000,
  StateExpiryIndex1764190000000,
  FinishedTurnsIndex1764200000000,
  EventLogWithoutGeneratedColumns1764210000000,
  BudgetSpendingIndexes1764220000000,
];
