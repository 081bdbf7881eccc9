import { InitialSchema1764090000000 } from './1764090000000-initial-schema';
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
import { BudgetSpendingIndexes1764220000000 } from '../both/1764220000000-budget-spending-indexes';
import { EventLogWithoutGeneratedColumns1764210000000 } from './1764210000000-event-log-without-generated-columns';

/** Every PostgreSQL migration, oldest first; run at start under an advisory lock. */
export const postgresMigrations = [InitialSchema1764090000000, Budgets1764100000000, UsageWindows1764110000000, Approvals1764120000000, Cluster1764130000000, Orchestrations1764140000000, OrchestrationStartedBy1764150000000, ClusterNodeLeaseTtl1764160000000, ApprovalNode1764170000000, CompletionResultSession1764180000000, StateExpiryIndex1764190000000, FinishedTurnsIndex1764200000000, EventLogWithoutGeneratedColumns1764210000000, BudgetSpendingIndexes1764220000000];
