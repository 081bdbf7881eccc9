import { defineInternal, definePush, defineRequest } from './definition';
import { costUsage } from './cost.events';
import { nonEmpty, safeId, z } from './schema';

/** Who runs a model: `claude-cli/<model>` (or a bare name) the Claude CLI, `anthropic/<model>` the Messages API. */
export const MODEL_PROVIDERS = ['claude-cli', 'anthropic'] as const;
export type ModelProvider = (typeof MODEL_PROVIDERS)[number];

/** A model's name is checked for shape only (aliases, `sonnet[1m]`, dated names): the provider says whether it exists. */
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:@[\]-]{0,127}$/;

/** `provider/name` or a bare name (the Claude CLI's) → its provider and name; undefined when not a model name. */
export function parseModel(model: string): { provider: ModelProvider; name: string } | undefined {
  const slash = model.indexOf('/');
  const provider = slash === -1 ? 'claude-cli' : model.slice(0, slash);
  const name = slash === -1 ? model : model.slice(slash + 1);
  if (!(MODEL_PROVIDERS as readonly string[]).includes(provider) || !MODEL_NAME.test(name)) return undefined;
  return { provider: provider as ModelProvider, name };
}

export const MODEL_FORMAT = `claude-cli/<model> (or a bare model name for the Claude CLI) or anthropic/<model>, the name 1-128 letters, digits and . _ : @ [ ] -`;

/** A model as requests and agents name it: any shape `parseModel` accepts. */
export const modelParam = z.string().refine((model) => parseModel(model) !== undefined, { message: `Not a model: use ${MODEL_FORMAT}` });

/** A tool name for --allowedTools/--disallowedTools; never option-like. */
const toolName = z.string().min(1, 'Must not be empty').refine((tool) => !tool.startsWith('-'), { message: "Must not start with '-'" });

/** A request's priority among queues competing for the concurrency limit, highest first. */
export const COMPLETION_PRIORITIES = ['high', 'normal', 'low'] as const;
const priority = z.enum(COMPLETION_PRIORITIES);

const message = z.object({ role: z.string(), content: z.union([z.string(), z.array(z.unknown())]) });

export const completionAsyncParams = z
  .looseObject({
    request_id: safeId(
      'Your own id for the request, which makes the call safe to repeat: sent again with the same turn, the request first accepted is answered and nothing is queued again',
    ).optional(),
    prompt: z.string().min(1, 'Must not be empty').optional().describe('The turn to send (or messages)'),
    messages: z.array(message).min(1).optional().describe('Chat messages; the last user message is the prompt'),
    model: modelParam.optional().describe('claude-cli/<model> or anthropic/<model> (default KSI_DEFAULT_MODEL)'),
    session_id: safeId('Claude session to continue (its newest descendant is resumed)').optional(),
    conversation_id: nonEmpty('Queue key for turn-taking; defaults to session_id').optional(),
    priority: priority.default('normal').describe('Order among queues competing for the concurrency limit'),
    timeout: z.number().positive().optional().describe('Seconds per attempt'),
    max_turns: z.number().int().positive().optional(),
    max_attempts: z.number().int().min(1).max(10).optional().describe('Attempts for retryable failures (default KSI_RETRY_MAX_ATTEMPTS)'),
    allowed_tools: z.array(toolName).optional(),
    disallowed_tools: z.array(toolName).optional(),
    system_prompt: z.string().optional().describe('Appended to the system prompt (--append-system-prompt)'),
    cwd: z.string().optional().describe('Working directory of the Claude process'),
    mcp_config: z.string().optional().describe('Path of an MCP config file (--mcp-config)'),
    agent_bridge: z
      .boolean()
      .optional()
      .describe("With agent_id: the agent's own MCP bridge (its KSI tools and approval prompts), as configured on the node that runs each attempt"),
    claude_config_dir: z
      .string()
      .startsWith('/', 'Must be an absolute path')
      .optional()
      .describe("The Claude CLI's configuration folder (CLAUDE_CONFIG_DIR): another account's login. Its usage limits are its own: a usage window parks only its requests (the operator only)"),
    agent_id: z.string().optional(),
    client_id: z.string().optional(),
    conversation_lock: z
      .object({ enabled: z.boolean().default(false), timeout: z.number().positive().default(300).describe('Seconds the lock is held at most') })
      .optional()
      .describe('Hold the conversation lock (conversation:acquire_lock) while the turn runs'),
  })
  .refine((data) => data.prompt !== undefined || data.messages !== undefined, { message: 'Required (prompt or messages)', path: ['prompt'] })
  .refine((data) => !(data.agent_bridge === true && data.mcp_config !== undefined), { message: 'Give mcp_config or agent_bridge, not both', path: ['agent_bridge'] });

export const requestIdParams = z.object({ request_id: nonEmpty('The request_id completion:async returned') });
export const completionStatusParams = z.object({ request_id: nonEmpty('One request (omit for a summary)').optional() });
export const sessionStatusParams = z.object({ session_id: safeId('A session id') });
export const noCompletionParams = z.object({});

/** Why an attempt failed, as a provider reports it: the code of completion:error and of completion:status. */
export const ATTEMPT_FAILURE_CODES = [
  'timeout',
  'killed',
  'rate_limited',
  'overloaded',
  'api_error',
  'api_unreachable',
  'auth_error',
  'billing_error',
  'invalid_request',
  'session_not_found',
  'context_overflow',
  'max_turns',
  'cli_not_found',
  'cli_failed',
  'invalid_output',
  'cli_error_result',
  'cancelled',
  'budget_exhausted',
  'max_budget_reached',
] as const;
export type AttemptFailureCode = (typeof ATTEMPT_FAILURE_CODES)[number];

/** Why a request failed for good: an attempt's failure, or the daemon could not finish an attempt (a bug, a storage error). */
export const failureCode = z.enum([...ATTEMPT_FAILURE_CODES, 'internal_error', 'node_lost']);
export type FailureCode = z.output<typeof failureCode>;
/** A request's last error code: a failure, or why it waits in the queue again. */
const errorCode = z
  .enum([...ATTEMPT_FAILURE_CODES, 'internal_error', 'daemon_restart', 'node_lost', 'lock_wait'])
  .describe(
    'Why the request failed, or why it waits again: daemon_restart (an attempt a restart interrupted), node_lost (the node running it stopped renewing its lease; another runs it again), lock_wait (the conversation lock is held)',
  );
export type CompletionErrorCode = z.output<typeof errorCode>;

const completionState = z.enum(['queued', 'processing', 'completed', 'failed', 'cancelled']);
const requestId = z.string();
const requestedSession = z.string().nullable().describe('The session the request continues (session_id as sent); null for a new one');
const epochSeconds = (description: string) => z.number().describe(`${description} (epoch seconds)`);

export const completionAsyncResult = z.object({
  request_id: requestId,
  status: completionState.describe('queued; for a request_id sent again, where the first request is now'),
  queue_key: z.string(),
  message: z.string(),
});

/** What completion:result carries and what the response log holds. */
export const standardResponse = z.object({
  ksi: z.object({
    provider: z.enum(MODEL_PROVIDERS),
    request_id: requestId,
    timestamp: z.string().describe('When the turn finished (ISO 8601)'),
    duration_ms: z.number(),
    client_id: z.string().optional(),
    agent_id: z.string().optional(),
    attempt: z.number(),
    node_id: z.string().optional().describe('The node (KSI_NODE_ID) that ran the turn'),
    // Conversations show the prompt beside the reply; resumed_session_id is the chain's step (session_links).
    prompt: z.string().describe('The turn that was sent'),
    resumed_session_id: z.string().nullable().describe('The session the turn resumed; null for a new session'),
  }),
  response: z
    .looseObject({ result: z.string().optional(), session_id: z.string().optional(), is_error: z.boolean().optional() })
    .describe("The provider's result object, shaped like the Claude CLI's (result, session_id, total_cost_usd, usage, …)"),
});
export type StandardResponse = z.output<typeof standardResponse>;

export const completionRecord = z.object({
  request_id: requestId,
  status: completionState,
  attempts: z.number(),
  max_attempts: z.number(),
  session_id: requestedSession,
  result_session_id: z.string().nullable().describe('The session the completed turn returned; the next turn resumes it'),
  queue_key: z.string(),
  model: z.string(),
  priority,
  result: standardResponse.optional(),
  error: z.string().optional(),
  error_code: errorCode.optional(),
  pid: z.number().optional().describe("Process group of the running attempt's Claude CLI"),
  queued_at: epochSeconds('Accepted'),
  started_at: epochSeconds('The last attempt started').optional(),
  completed_at: epochSeconds('Finished').optional(),
  next_attempt_at: epochSeconds('A retry waits until then').optional(),
  // Present once an attempt started, and on every finished record; an attempt that reported nothing adds 0.
  cost_usd: z.number().optional().describe('What the attempts so far cost, added up (failed attempts that reported a cost count too)'),
  usage: costUsage.optional(),
  num_turns: z.number().optional(),
  duration_api_ms: z.number().optional(),
  profile: z.string().optional().describe('The composed profile of the agent the request ran for'),
});
export type CompletionRecord = z.output<typeof completionRecord>;

export const completionSummary = z.object({
  status_counts: z.object({ queued: z.number(), processing: z.number(), completed: z.number(), failed: z.number(), cancelled: z.number() }),
  active_completions: z.number().describe('Queued and processing'),
  concurrency: z.object({ limit: z.number(), running: z.number() }),
  service_ready: z.boolean(),
});
export type CompletionSummary = z.output<typeof completionSummary>;

export const completionCancelResult = z.object({ request_id: requestId, status: z.literal('cancelled') });

export const retryStatusResult = z.object({
  policy: z.object({ max_attempts: z.number(), initial_delay_ms: z.number(), max_delay_ms: z.number(), multiplier: z.number(), jitter: z.literal('full') }),
  retrying: z.array(
    z.object({
      request_id: requestId,
      attempts: z.number(),
      max_attempts: z.number(),
      next_attempt_at: epochSeconds('The next attempt starts'),
      last_error: z.string().nullable(),
    }),
  ),
  count: z.number(),
});

/** A usage limit an account reached: its queued requests are parked until the reset. */
export const usageWindow = z.object({
  account: z.string().describe('Whose usage it is: the provider (claude-cli, anthropic)'),
  paused_until: z.number().describe('The reset the provider reported (epoch seconds); parked requests start from then'),
  reason: z.string().describe('The provider’s words'),
  request_id: z.string().describe('The request whose attempt hit the limit'),
});
export type UsageWindow = z.output<typeof usageWindow>;

export const queueStatusResult = z.object({
  queued: z.number(),
  processing: z.number(),
  limit: z.number().describe('KSI_MAX_CONCURRENT: how many this node runs at once (processing and queued count every node)'),
  queues: z.array(z.object({ queue_key: z.string(), queued: z.number(), processing: z.number() })),
  usage_windows: z
    .array(usageWindow.extend({ parked: z.number().describe('Queued requests of the account waiting for the reset') }))
    .describe('Accounts whose usage limit was reached, until their reset'),
});

export const sessionStatusResult = z.object({
  session_id: z.string(),
  root_session_id: z.string(),
  newest_session_id: z.string().describe('What a turn continuing this session resumes'),
  chain: z.array(z.string()).describe('The chain from its root, oldest first'),
  completions: z.array(completionRecord.pick({ request_id: true, status: true, session_id: true, result_session_id: true, queued_at: true, completed_at: true })),
});

export const completionAsync = defineRequest('completion:async', {
  summary: 'Queue a Claude turn; progress, result or error are pushed to this connection',
  params: completionAsyncParams,
  result: completionAsyncResult,
});
export const completionStatus = defineRequest('completion:status', {
  summary: 'One request with its result, or a summary of all',
  params: completionStatusParams,
  result: z.union([completionRecord, completionSummary]),
});
export const completionCancel = defineRequest('completion:cancel', {
  summary: 'Cancel a queued or running request (its process group is killed)',
  params: requestIdParams,
  result: completionCancelResult,
});
export const completionRetryStatus = defineRequest('completion:retry_status', {
  summary: 'The retry policy and the requests waiting to retry',
  params: noCompletionParams,
  result: retryStatusResult,
});
export const completionQueueStatus = defineRequest('completion:queue_status', {
  summary: 'Queued and running requests per queue',
  params: noCompletionParams,
  result: queueStatusResult,
});
export const completionUsageWindows = defineInternal('completion:usage_windows', {
  summary: 'Accounts whose usage limit was reached, until their reset, for system:health',
  params: noCompletionParams,
  result: z.object({ usage_windows: z.array(usageWindow) }),
});
/** Where a page of finished turns ended: the last turn's finishing time and acceptance order. */
const finishedTurnCursor = z.object({ completed_at: z.number(), seq: z.number() });
export const completionFinishedTurns = defineInternal('completion:finished_turns', {
  summary: "Completed requests that returned a session, every node's, in the order they finished, each with the first session of its chain: the conversations, a page at a time",
  params: z.object({
    session_id: safeId('Only the chain this session belongs to').optional(),
    after: finishedTurnCursor.optional().describe("The previous page's next"),
    limit: z.number().int().min(1).max(1_000).default(200),
  }),
  result: z.object({
    turns: z.array(z.object({ root_session_id: z.string(), session_id: z.string().describe('The session the turn returned'), result: standardResponse })),
    next: finishedTurnCursor.optional().describe('Where the next page starts; absent on the last page'),
  }),
});
export const completionSessionStatus = defineRequest('completion:session_status', {
  summary: "A session's chain, its newest session and its requests",
  params: sessionStatusParams,
  result: sessionStatusResult,
});

/** What a provider reports while a turn runs; each becomes a completion:progress push with this status. */
const streamingProgress = { status: z.literal('streaming'), delta: z.string().describe('The next piece of the answer') };
const toolUseProgress = { status: z.literal('tool_use'), tool: z.string(), tool_use_id: z.string().optional() };
const apiRetryProgress = {
  status: z.literal('api_retry'),
  api_attempt: z.number().describe("The provider's own retry of the API call; attempt stays KSI's"),
  max_retries: z.number().optional(),
  retry_delay_ms: z.number(),
  error: z.string().optional(),
  error_status: z.number().nullable().optional().describe("The API's HTTP status; null when it gave none"),
};
export const turnProgress = z.discriminatedUnion('status', [z.object(streamingProgress), z.object(toolUseProgress), z.object(apiRetryProgress)]);
export type TurnProgress = z.output<typeof turnProgress>;

/** Every progress push names its request, the session it continues and the attempt. */
const progressOf = <S extends z.ZodRawShape>(shape: S) =>
  z.object({ request_id: requestId, session_id: requestedSession, attempt: z.number().describe('KSI’s attempt, from 1; for parked, the attempts made so far'), ...shape });

export const completionProgress = definePush('completion:progress', {
  summary: "A request's progress, pushed to the connection that sent it: calling_llm, streaming (delta), tool_use, api_retry, retry_scheduled, parked (waits for a usage limit's reset; no attempt counted)",
  payload: z.discriminatedUnion('status', [
    progressOf({ status: z.literal('calling_llm'), resume_session_id: z.string().nullable().describe('The session this attempt resumes; null for a new one') }),
    progressOf(streamingProgress),
    progressOf(toolUseProgress),
    progressOf(apiRetryProgress),
    progressOf({
      status: z.literal('parked'),
      paused_until: epochSeconds('The usage limit resets and the request may start'),
      account: z.string(),
      reason: z.string().describe('The limit, in the provider’s words'),
    }),
    progressOf({
      status: z.literal('retry_scheduled'),
      next_attempt_at: epochSeconds('The next attempt starts'),
      error: z.string().describe('Why this attempt failed'),
      code: failureCode,
    }),
  ]),
});
export const completionResult = definePush('completion:result', {
  summary: "A request's result, pushed to the connection that sent it",
  payload: z.object({ request_id: requestId, session_id: z.string().nullable().describe('The session the turn returned; the next turn resumes it'), result: standardResponse }),
});
const failurePayload = z.object({
  request_id: requestId,
  session_id: requestedSession,
  error: z.string(),
  code: failureCode,
  attempts: z.number().describe('Attempts made'),
});
export const completionError = definePush('completion:error', {
  summary: 'A request failed for good (no attempts left, or a failure no retry cures); pushed to the connection that sent it',
  payload: failurePayload,
});
export const completionCancelled = definePush('completion:cancelled', {
  summary: 'A request was cancelled; pushed to the connection that sent it',
  payload: z.object({ request_id: requestId, session_id: requestedSession }),
});
/** Raised beside completion:error for the daemon's own listeners and monitors; never pushed to the requester. */
export const completionFailed = defineInternal('completion:failed', {
  summary: 'A request failed for good (what completion:error carries), for monitors',
  params: failurePayload,
  result: z.void(),
});

export const completionEndTurns = defineInternal('completion:end_turns', {
  summary: "An agent is terminated: its turns in flight, and every other request made for it, end: cancelled if queued or running, barred if not queued yet (a node starting one cannot queue it after)",
  params: z.object({ agent_id: z.string(), request_ids: z.array(z.string()).describe('The requests of its turns in flight') }),
  result: z.object({ barred: z.array(z.string()).describe('Those of request_ids not queued yet, now barred') }),
});

/** Every completion event's definition. */
export const completionEvents = [
  completionAsync,
  completionStatus,
  completionCancel,
  completionRetryStatus,
  completionQueueStatus,
  completionSessionStatus,
  completionUsageWindows,
  completionFinishedTurns,
  completionProgress,
  completionResult,
  completionError,
  completionCancelled,
  completionFailed,
  completionEndTurns,
] as const;
