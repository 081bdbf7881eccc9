import type { ModelProvider, TurnProgress } from '../../../../libs/client/src';
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
  /** The least any budget that applies has left (USD): the CLI stops the turn once it has spent that. */
  maxBudgetUsd?: number;
  mcpConfig?: string;
  /** The MCP tool the CLI asks before using a tool its allow list does not cover (`--permission-prompt-tool`). */
  permissionPromptTool?: string;
  systemPrompt?: string;
  cwd?: string;
  /**
   * Which settings the CLI loads (`--setting-sources`); absent: the CLI's default (user, project, local).
   * An agent's turn loads only the user's: its workspace is agent-writable, and project settings there
   * could run hooks (a SessionStart hook runs its command even in `-p` mode).
   */
  settingSources?: SettingSource[];
  timeoutMs: number;
  /** Added to the process's environment: the markers that make it (and what it starts) this request's, and the account's CLAUDE_CONFIG_DIR. */
  env: Record<string, string>;
}

/** What a provider reports while a turn runs: the contract defines it, as each becomes a `completion:progress` push with this `status`. */
export type { TurnProgress } from '../../../../libs/client/src';

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
