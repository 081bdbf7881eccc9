import { defineInternal } from './definition';
import { nonEmpty, z } from './schema';

export const acknowledgeParams = z.object({ service_name: nonEmpty('The critical service acknowledging shutdown') });
export const noLifecycleParams = z.object({});
/** Internal: what `checkpoint:restore` hands each module. */
export const checkpointRestoreParams = z.object({ checkpoint_id: z.number(), data: z.record(z.string(), z.unknown()) });

export interface CheckpointSaved {
  status: 'saved';
  checkpoint_id: number;
  timestamp: number;
  modules: Record<string, unknown>;
}

export interface RestoreSummary {
  status: 'restored';
  checkpoint_id: number;
  checkpoint_time: number;
  reason: string;
  results: Record<string, unknown>;
}

export interface LifecycleEvents {
  'system:shutdown': { params: z.input<typeof noLifecycleParams>; result: { status: 'shutting_down'; pid: number } };
  'shutdown:acknowledge': { params: z.input<typeof acknowledgeParams>; result: { acknowledged: string; critical: boolean } };
  'dev:checkpoint': { params: z.input<typeof noLifecycleParams>; result: CheckpointSaved };
  'dev:restore': { params: z.input<typeof noLifecycleParams>; result: RestoreSummary };
}

/** One module's part of a checkpoint (or of a restore): the module's name and whatever it keeps. */
export const checkpointSlice = z.looseObject({ module: z.string().describe('The module the slice belongs to') });

export const checkpointCollect = defineInternal('checkpoint:collect', {
  summary: "Each module's part of a checkpoint (several modules answer)",
  params: z.object({}),
  result: checkpointSlice,
});
export const checkpointRestore = defineInternal('checkpoint:restore', {
  summary: "Each module checks its part of a checkpoint against what it holds (several modules answer)",
  params: checkpointRestoreParams,
  result: checkpointSlice,
});
export const systemReady = defineInternal('system:ready', {
  summary: 'The daemon listens on its socket: modules start their background work',
  params: z.object({}),
  result: z.void(),
});

export const lifecycleEvents = [checkpointCollect, checkpointRestore, systemReady] as const;
