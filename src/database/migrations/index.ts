import { State1763950000000 } from './1763950000000-state';

/** Every migration, oldest first; run at start (the daemon never uses `synchronize`). */
export const migrations = [State1763950000000];
