import type { ModelProvider } from '../../../../libs/client/src';
import type { AttemptOutcome } from './attempt-outcome';

export type SettingSource = 'user' | 'project' | 'local';

/** One turn as a provider runs it: what to send, in which session, with which limits. */
export interface Turn {
  requestId: string;
  prompt: string;
  /** The model's name within its provider (`sonnet`, `claude-sonnet-4-5`, …): the `provider/` prefix removed. */
  model: string;
  /** The session this turn continues (`resume: true`) or creates under this id (`resume: false`). */
  sessionId: string;
  resume: boolean;
  allowedTools?: string[];
  disallowedTools?: string[];
  maxTurns?: number;
  mcpConfig?: string;
  systemPrompt?: string;
  cwd?: string;
  /**
   * Which settings the CLI loads (`--setting-sources`); absent: the CLI's default (user, project, local).
   * An agent's turn loads only the user's: its workspace is agent-writable, and project settings there
   * could run hooks (a SessionStart hook runs its command even in `-p` mode).
   */
  settingSources?: SettingSource[];
  timeoutMs: number;
  /** Marks the process (and what it starts) as this request's, in its environment. */
  env: Record<string, string>;
}

/** What a provider reports while a turn runs; each becomes a `completion:progress` push with this `status`. */
export type TurnProgress =
  | { status: 'streaming'; delta: string }
  | { status: 'tool_use'; tool: string; tool_use_id?: string }
  | { status: 'api_retry'; /** The provider's own retry of the API call; `attempt` stays KSI's. */ api_attempt: number; max_retries?: number; retry_delay_ms: number; error?: string; error_status?: number | null };

export interface TurnObserver {
  /** The process group a provider started (providers without a process never call it). */
  spawned(pid: number): void;
  progress(progress: TurnProgress): void;
}

/**
 * A backend that runs turns. `run` resolves with the outcome (it rejects only on a bug); it stops
 * the turn when `signal` aborts and reports progress through `observer` as it arrives.
 */
export interface CompletionProvider {
  readonly name: ModelProvider;
  run(turn: Turn, signal: AbortSignal, observer: TurnObserver): Promise<AttemptOutcome>;
}

/** Injection token: every CompletionProvider, one per ModelProvider. */
export const COMPLETION_PROVIDERS = Symbol('COMPLETION_PROVIDERS');
