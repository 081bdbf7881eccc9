import { DaemonRun } from '../lifecycle/daemon-run.entity';
import { Agent } from '../modules/agent/agent.entity';
import { ApprovalRule } from '../modules/approval/approval-rule.entity';
import { Approval } from '../modules/approval/approval.entity';
import { Budget } from '../modules/budget/budget.entity';
import { AgentIdentity } from '../modules/agent/agent-identity.entity';
import { AgentMessage } from '../modules/agent/agent-message.entity';
import { ClusterNode } from '../modules/cluster/cluster-node.entity';
import { Checkpoint } from '../modules/checkpoint/checkpoint.entity';
import { CompletionRequest } from '../modules/completion/completion-request.entity';
import { ProviderMessage } from '../modules/completion/provider-message.entity';
import { SessionLink } from '../modules/completion/session-link.entity';
import { UsageWindowRow } from '../modules/completion/usage-window.entity';
import { CompositionIndexEntry } from '../modules/composition/composition-index.entity';
import { DynamicComposition } from '../modules/composition/dynamic-composition.entity';
import { BusMessageRow } from '../modules/message/bus-message.entity';
import { OrchestrationTurn } from '../modules/orchestration/orchestration-turn.entity';
import { OrchestrationRow } from '../modules/orchestration/orchestration.entity';
import { EventLogEntry } from '../modules/monitor/event-log.entity';
import { AgentPermission } from '../modules/permission/agent-permission.entity';
import { Sandbox } from '../modules/permission/sandbox.entity';
import { QueueItem } from '../modules/state/queue-item.entity';
import { StateEntry } from '../modules/state/state-entry.entity';

/** Every table's entity: the one description of its schema, which both dialects' migrations are checked against. */
export const ENTITIES = [
  StateEntry,
  QueueItem,
  CompletionRequest,
  SessionLink,
  DaemonRun,
  Checkpoint,
  CompositionIndexEntry,
  DynamicComposition,
  AgentPermission,
  Sandbox,
  BusMessageRow,
  Agent,
  AgentMessage,
  AgentIdentity,
  EventLogEntry,
  ProviderMessage,
  Budget,
  UsageWindowRow,
  Approval,
  ApprovalRule,
  ClusterNode,
  OrchestrationRow,
  OrchestrationTurn,
];
