import { defineInternal, defineRequest } from './definition';
import { z } from './schema';

export const NODE_STATUSES = ['alive', 'suspect', 'dead'] as const;

export const clusterNode = z.object({
  node_id: z.string().describe('KSI_NODE_ID: host name and var dir unless set'),
  status: z.enum(NODE_STATUSES).describe('alive: heartbeat within half the lease TTL; suspect: within the TTL; dead: older, or stopped'),
  this_node: z.boolean().describe('The node that answered'),
  host: z.string(),
  pid: z.number(),
  var_dir: z.string(),
  socket: z.string(),
  version: z.string(),
  started_at: z.number().describe('Epoch seconds'),
  heartbeat_at: z.number().describe('Epoch seconds of the last heartbeat'),
  stopped_at: z.number().nullable().describe('Epoch seconds of a graceful stop; null while it runs or since it died'),
  running: z.number().describe('Completions running under its leases'),
});
export type ClusterNodeInfo = z.output<typeof clusterNode>;

export const clusterNodesResult = z.object({
  node_id: z.string().describe('The node that answered'),
  lease_ttl_ms: z.number().describe('KSI_LEASE_TTL_MS: how long a lease lasts unless renewed'),
  nodes: z.array(clusterNode),
});

export const completionRunningByNode = defineInternal('completion:running_by_node', {
  summary: 'Completions running under each node’s leases, for cluster:nodes',
  params: z.object({}),
  result: z.object({ running: z.record(z.string(), z.number()) }),
});

export const clusterNodes = defineRequest('cluster:nodes', {
  summary: 'The daemons sharing this database (one on SQLite), with their status and running completions',
  params: z.object({ include_dead: z.boolean().default(true).describe('List dead nodes too') }),
  result: clusterNodesResult,
});

export const clusterEvents = [clusterNodes, completionRunningByNode] as const;
