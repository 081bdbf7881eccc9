import { defineInternal, definePush, defineRequest } from './definition';
import { nonEmpty, z } from './schema';

export const acknowledgeParams = z.object({ service_name: nonEmpty('The critical service acknowledging shutdown') });
export const noLifecycleParams = z.object({});
/** Internal: what `checkpoint:restore` hands each module. */
export const checkpointRestoreParams = z.object({ checkpoint_id: z.number(), data: z.record(z.string(), z.unknown()) });

/** A request a checkpoint lists as not finished. */
const unfinishedRequest = z.object({ request_id: z.string(), attempts: z.number(), queue_key: z.string() });
/** What each module keeps in a checkpoint. */
const checkpointParts = {
  agent: {
    agents: z.array(
      z.object({
        agent_id: z.string(),
        status: z.string(),
        session_id: z.string().nullable(),
        pending_messages: z.number().describe('Inbox messages not yet run'),
      }),
    ),
  },
  completion: {
    queued: z.array(unfinishedRequest),
    processing: z.array(unfinishedRequest).describe('Running when the checkpoint was written: they run again'),
  },
  conversation: { locks: z.record(z.string(), z.object({ holder: z.string().describe('The request holding the lock'), queue: z.array(z.string()).describe('Requests waiting, in order') })) },
  message: {
    subscriptions: z.record(z.string(), z.array(z.string())).describe('Subscribers by event type'),
    offline_queues: z.record(z.string(), z.number()).describe('Undelivered messages by recipient'),
  },
};
/** What the completion module found of the requests a restored checkpoint lists (the rows are the truth). */
const completionRestoreCheck = {
  restored_requests: z.number().describe('Still queued or processing: they run'),
  retried_after_restart: z.number().describe('Of those, the ones the checkpoint listed as processing'),
  already_finished: z.number(),
  missing: z.array(z.string()).describe('Listed but not in the database'),
};

export const checkpointSaved = z.object({
  status: z.literal('saved'),
  checkpoint_id: z.number(),
  timestamp: z.number().describe('Epoch seconds'),
  modules: z
    .object({
      agent: z.object(checkpointParts.agent),
      completion: z.object(checkpointParts.completion),
      conversation: z.object(checkpointParts.conversation),
      message: z.object(checkpointParts.message),
    })
    .partial()
    .describe("Each module's part of the checkpoint (a module that failed to give one is left out)"),
});
export type CheckpointSaved = z.output<typeof checkpointSaved>;

export const restoreSummary = z.object({
  status: z.literal('restored'),
  checkpoint_id: z.number(),
  checkpoint_time: z.number().describe('Epoch seconds when the checkpoint was written'),
  reason: z.string().describe('Why the checkpoint was written: shutdown or manual (dev:checkpoint)'),
  results: z.object({ completion: z.object(completionRestoreCheck) }).partial().describe('What each module did with its part'),
});
export type RestoreSummary = z.output<typeof restoreSummary>;

/** What a stop records about itself; the next start reports it in system:health. */
export const shutdownReport = z.object({
  reason: z.string().describe('signal, or requested (system:shutdown)'),
  clean: z.boolean().describe('Whether every critical service acknowledged before the timeout'),
  acknowledged: z.array(z.string()),
  timed_out_services: z.array(z.string()),
  checkpoint_id: z.number().nullable().describe('The checkpoint written at the stop; null when writing it failed'),
  started_at: z.number().describe('Epoch seconds'),
  duration_ms: z.number(),
});
export type ShutdownReport = z.output<typeof shutdownReport>;

/** How the previous run ended: clean, timeout (with the services that did not acknowledge), crash, or first_start. */
export const lastShutdown = z.discriminatedUnion('kind', [
  shutdownReport.extend({ kind: z.enum(['clean', 'timeout']) }),
  z.object({ kind: z.literal('crash'), pid: z.number(), started_at: z.number().describe('Epoch seconds') }),
  z.object({ kind: z.literal('first_start') }),
]);
export type LastShutdown = z.output<typeof lastShutdown>;

const serviceNames = z.array(z.string());

export const systemShutdown = defineRequest('system:shutdown', {
  summary: 'Stop the daemon gracefully (the same path as SIGTERM)',
  params: noLifecycleParams,
  result: z.object({ status: z.literal('shutting_down'), pid: z.number() }),
});
export const shutdownAcknowledge = defineRequest('shutdown:acknowledge', {
  summary: 'A critical service says it finished its shutdown work',
  params: acknowledgeParams,
  result: z.object({ acknowledged: z.string(), critical: z.boolean().describe('Whether the shutdown barrier waits for this service') }),
});
export const devCheckpoint = defineRequest('dev:checkpoint', {
  summary: 'Write a checkpoint of everything in flight now',
  params: noLifecycleParams,
  result: checkpointSaved,
});
export const devRestore = defineRequest('dev:restore', {
  summary: 'Restore the newest checkpoint now',
  params: noLifecycleParams,
  result: restoreSummary,
});

/** One module's part of a checkpoint, named by `module`. */
export const checkpointSlice = z.discriminatedUnion('module', [
  z.object({ module: z.literal('agent'), ...checkpointParts.agent }),
  z.object({ module: z.literal('completion'), ...checkpointParts.completion }),
  z.object({ module: z.literal('conversation'), ...checkpointParts.conversation }),
  z.object({ module: z.literal('message'), ...checkpointParts.message }),
]);
export type CompletionCheckpointPart = z.output<z.ZodObject<typeof checkpointParts.completion>>;
/** One module's check of its part of a restored checkpoint. */
export const restoreCheck = z.discriminatedUnion('module', [z.object({ module: z.literal('completion'), ...completionRestoreCheck })]);
export type CompletionRestoreCheck = z.output<z.ZodObject<typeof completionRestoreCheck>>;

export const checkpointCollect = defineInternal('checkpoint:collect', {
  summary: "Each module's part of a checkpoint (several modules answer)",
  params: z.object({}),
  result: checkpointSlice,
});
export const checkpointRestore = defineInternal('checkpoint:restore', {
  summary: "Each module checks its part of a checkpoint against what it holds (several modules answer)",
  params: checkpointRestoreParams,
  result: restoreCheck,
});
export const checkpointWrite = defineInternal('checkpoint:write', {
  summary: 'Write the checkpoint at shutdown, while the database is still open',
  params: z.object({ reason: nonEmpty('Why the checkpoint is written') }),
  result: z.object({ checkpoint_id: z.number() }),
});
/**
 * The original daemon raised these two while starting; KSI raises neither. They stay reserved so the
 * socket refuses them with forbidden_event, as CONTRACT §3 promises, instead of calling them unknown.
 */
export const systemStartup = defineInternal('system:startup', { summary: 'Reserved (the original raised it while starting)', params: z.object({}), result: z.void() });
export const systemContext = defineInternal('system:context', { summary: 'Reserved (the original raised it while starting)', params: z.object({}), result: z.void() });
export const systemReady = defineInternal('system:ready', {
  summary: 'The daemon listens on its socket: modules start their background work',
  params: z.object({}),
  result: z.void(),
});
export const systemShutdownStarted = defineInternal('system:shutdown_started', {
  summary: 'Shutdown began: new requests are refused, requests in flight finish (listeners end those that would wait long), then the critical services run (the barrier waits for those, not for listeners)',
  params: z.object({ reason: z.string().describe('signal, or requested (system:shutdown)') }),
  result: z.void(),
});
export const systemShutdownComplete = defineInternal('system:shutdown_complete', {
  summary: 'The shutdown barrier is done: every critical service acknowledged, or the timeout passed',
  params: z.object({ services: serviceNames.describe('The services that acknowledged'), timed_out_services: serviceNames.describe('The services that did not acknowledge in time') }),
  result: z.void(),
});
export const systemShutdownNotification = definePush('system:shutdown_notification', {
  summary: 'Sent to every open connection when the daemon begins to shut down',
  payload: z.object({ reason: z.literal('daemon_shutdown'), timestamp: z.number().describe('Epoch seconds') }),
});

export const lifecycleEvents = [
  systemShutdown,
  shutdownAcknowledge,
  devCheckpoint,
  devRestore,
  checkpointCollect,
  checkpointRestore,
  checkpointWrite,
  systemStartup,
  systemContext,
  systemReady,
  systemShutdownStarted,
  systemShutdownComplete,
  systemShutdownNotification,
] as const;
