import { defineInternal, defineRequest } from './definition';
import { failureCode, standardResponse } from './completion.events';
import { z } from './schema';

export const NODE_STATUSES = ['alive', 'suspect', 'dead'] as const;

export const clusterNode = z.object({
  node_id: z.string().describe('KSI_NODE_ID: host name and var dir unless set'),
  status: z.enum(NODE_STATUSES).describe('alive: heartbeat within half its lease TTL; suspect: within its TTL; dead: older, or stopped'),
  this_node: z.boolean().describe('The node that answered'),
  host: z.string(),
  pid: z.number(),
  var_dir: z.string(),
  socket: z.string(),
  version: z.string(),
  started_at: z.number().describe('Epoch seconds'),
  heartbeat_at: z.number().describe('Epoch seconds of the last heartbeat'),
  lease_ttl_ms: z.number().describe('Its KSI_LEASE_TTL_MS, which its status is judged by (this node’s for a node of a KSI that did not say)'),
  stopped_at: z.number().nullable().describe('Epoch seconds of a graceful stop; null while it runs or since it died'),
  running: z.number().describe('Completions running under its leases'),
});
export type ClusterNodeInfo = z.output<typeof clusterNode>;

export const clusterNodesResult = z.object({
  node_id: z.string().describe('The node that answered'),
  lease_ttl_ms: z.number().describe('KSI_LEASE_TTL_MS of the node that answered: how long its leases last unless renewed'),
  nodes: z.array(clusterNode),
});

export const completionRunningByNode = defineInternal('completion:running_by_node', {
  summary: 'Completions running under each node’s leases, for cluster:nodes',
  params: z.object({}),
  result: z.object({ running: z.record(z.string(), z.number()) }),
});

export const completionAdoptAgent = defineInternal('completion:adopt_agent', {
  summary: 'An agent moved to this node: its unfinished requests report here from now on; how those of its turns in flight ended',
  params: z.object({
    agent_id: z.string(),
    request_ids: z.array(z.string()).describe('The requests of its turns in flight'),
    alive_nodes: z.array(z.string()).describe('Requests accepted by these nodes keep reporting there (a client of theirs waits); empty on SQLite'),
  }),
  result: z.object({
    requests: z.number().describe('Unfinished requests now reporting here'),
    ended: z
      .array(
        z.object({
          request_id: z.string(),
          status: z.enum(['completed', 'failed', 'cancelled']),
          session_id: z.string().nullable(),
          result_session_id: z.string().nullable(),
          result: standardResponse.optional(),
          failure: z.object({ message: z.string(), code: failureCode }).optional(),
          attempts: z.number(),
        }),
      )
      .describe('Those of request_ids that ended while no node held the agent'),
    unknown: z.array(z.string()).describe('Those of request_ids no request has: a turn whose node died after choosing its id and before queuing it'),
  }),
});

export const clusterNodes = defineRequest('cluster:nodes', {
  summary: 'The daemons sharing this database (one on SQLite), with their status and running completions',
  params: z.object({ include_dead: z.boolean().default(true).describe('List dead nodes too') }),
  result: clusterNodesResult,
});

export const clusterEvents = [clusterNodes, completionRunningByNode, completionAdoptAgent] as const;
