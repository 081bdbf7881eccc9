import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { agentProfile, COMPLETION_PRIORITIES, parseModel, permissionGetAgent, sandboxGet, type completionAsync, type HandlerResult, type ParamsOut } from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { correlationStorage } from '../../events/correlation';
import { EventBus } from '../../events/event-bus';
import type { EventContext } from '../../events/event-context';
import { EventError } from '../../events/event-error';
import type { CompletionStatus } from './completion-request.entity';
import { CompletionRepository } from './completion.repository';
import { CompletionScheduler } from './completion-scheduler';
import { LiveRequests } from './live-requests';
import { UsageWindows } from './usage-windows';

export type AsyncParams = ParamsOut<typeof completionAsync>;

/**
 * What makes a request the same turn when its id is sent again, with the model when the caller names
 * it (the default may have changed since); tools and folder are the agent's, and may have changed too.
 */
const TURN_FIELDS = ['prompt', 'messages', 'session_id', 'system_prompt', 'max_turns', 'timeout', 'max_attempts'] as const;

const isRunning = (status: CompletionStatus): boolean => status === 'queued' || status === 'processing';

/** completion:async: a request becomes a queued row, with the limits of the agent it runs for. */
@Injectable()
export class CompletionAdmission {
  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly repo: CompletionRepository,
    private readonly live: LiveRequests,
    private readonly scheduler: CompletionScheduler,
    private readonly bus: EventBus,
    private readonly windows: UsageWindows,
  ) {}

  async accept(request: AsyncParams, context: EventContext): Promise<HandlerResult<typeof completionAsync>> {
    if (context.agentId !== undefined) await this.refuseOthersPlace(context.agentId, request, context);
    const { request_id: chosenId, ...asked } = request;
    const params = await this.withAgentLimits({ ...asked, model: asked.model ?? this.config.defaultModel }, context);
    if (params.agent_bridge && params.agent_id === undefined) {
      throw new EventError('invalid_params', 'agent_bridge: give agent_id, the agent whose bridge the turn uses', { details: [{ path: 'agent_bridge', message: 'Needs agent_id' }] });
    }
    // The caller's folder, not an agent's sandbox: spawn would report a missing one as a missing CLI.
    // A request sent again is answered from the first, whose folder may have gone since.
    if (asked.cwd !== undefined && params.cwd === asked.cwd && !(chosenId !== undefined && (await this.repo.byId(chosenId)))) await checkFolder(asked.cwd);
    const requestId = chosenId ?? randomUUID();
    const queueKey = params.conversation_id ?? params.session_id ?? 'default';
    const now = this.clock.now();
    const account = accountOf(params);
    const cause = correlationStorage.getStore();
    const inserted = await this.repo.insert({
      requestId,
      status: 'queued',
      queueKey,
      sessionId: params.session_id ?? null,
      priority: COMPLETION_PRIORITIES.indexOf(params.priority),
      model: params.model as string,
      payload: JSON.stringify(params),
      attempts: 0,
      maxAttempts: params.max_attempts ?? this.config.retry.maxAttempts,
      nextAttemptAt: now,
      clientId: params.client_id ?? context.connection?.id ?? null,
      agentId: params.agent_id ?? null,
      profile: await this.profileOf(params.agent_id, context),
      account,
      queuedAt: now,
      cause: cause ? JSON.stringify(cause) : null,
    });
    if (!inserted) return this.acceptedBefore(requestId, params, asked.model !== undefined, queueKey, context);
    this.live.accepted(requestId, context.connection, cause);
    // After the reply that names the request, so its sender knows the id of what it hears.
    setImmediate(() => this.windows.parkedOnArrival({ requestId, sessionId: params.session_id ?? null, account }));
    this.scheduler.queueMoved();
    return { request_id: requestId, status: 'queued', queue_key: queueKey, message: 'Completion request queued for processing' };
  }

  /**
   * A request_id sent again: the request it names, when it is the same turn (the caller repeating
   * itself, say after a lost connection), whose pushes go to this connection from now on while it runs.
   * Any other turn under that id is refused: an id names one request. An agent's own connection takes
   * over nothing: a request made for it by someone else keeps its listener.
   */
  private async acceptedBefore(requestId: string, params: AsyncParams, modelNamed: boolean, queueKey: string, context: EventContext): Promise<HandlerResult<typeof completionAsync>> {
    const first = await this.repo.byId(requestId);
    const stored = JSON.parse(first?.payload ?? '{}') as AsyncParams;
    const sameTurn =
      first !== undefined &&
      first.queueKey === queueKey &&
      first.agentId === (params.agent_id ?? null) &&
      (!modelNamed || stored.model === params.model) &&
      TURN_FIELDS.every((field) => isDeepStrictEqual(stored[field], params[field]));
    if (!sameTurn || context.agentId !== undefined) {
      throw new EventError('already_exists', `Request ${requestId} exists already${sameTurn ? '' : ' for another turn'}: choose another request_id, or omit it to have one made; completion:status shows the request`);
    }
    const accepted = { request_id: requestId, queue_key: queueKey };
    const ended = (status: CompletionStatus) => ({ ...accepted, status, message: `Completion request accepted before, and ${status}: completion:status has its outcome` });
    if (!isRunning(first.status)) return ended(first.status);
    if (first.acceptedBy !== this.config.node.id) {
      return { ...accepted, status: first.status, message: `Completion request accepted before by node ${first.acceptedBy}, whose connections hear its pushes: completion:status follows it from here` };
    }
    // Its end may have been pushed while this looked: then nothing more comes, and the connection is told so.
    // An end written but not yet pushed still comes here, and clears what this attached.
    const attached = this.live.reattached(requestId, context.connection);
    const now = (await this.repo.byId(requestId)) ?? first;
    if (attached && isRunning(now.status)) return { ...accepted, status: now.status, message: 'Completion request accepted before; its progress and result are pushed to this connection from now on' };
    return ended(now.status);
  }

  /** What an agent may not choose for a turn of its own: each would let the turn act as another, or take another's place. */
  private async refuseOthersPlace(agentId: string, request: AsyncParams, context: EventContext): Promise<void> {
    const refuse = (what: string, why: string) => {
      throw new EventError('permission_denied', `Agent ${agentId} may not ${what}: ${why}`);
    };
    if (request.claude_config_dir !== undefined) refuse('choose claude_config_dir', "only the operator or the agent's profile names an account");
    // An MCP config holds the identity and token its bridge acts as: another agent's would make the turn that agent.
    if (request.mcp_config !== undefined || (request.extra_body as { ksi?: unknown } | undefined)?.ksi !== undefined) {
      refuse('choose mcp_config or extra_body.ksi', 'its turns use its own MCP bridge, tools and workspace');
    }
    // Its turns run in its own workspace; a folder it names could be another agent's.
    if (request.cwd !== undefined) refuse('choose cwd', 'its turns run in its own workspace');
    const ownQueue = `agent:${agentId}`;
    if (request.conversation_id?.startsWith('agent:') && request.conversation_id !== ownQueue) refuse(`queue into ${request.conversation_id}`, `that is another agent's turns; its own queue is ${ownQueue}`);
    // A session is named by id alone, and agents can learn each other's: an agent resumes only a session
    // of its own turns, since it was spawned (an id can be reused after its agent was terminated).
    if (request.session_id !== undefined) {
      const agent = await this.bus.requestOne(agentProfile, { agent_id: agentId }, context).catch(() => undefined);
      // An identity KSI did not spawn (permission:set_agent and a token) is the operator's to name: all its history counts.
      const since = agent === undefined ? 0 : agent.created_at * 1000;
      if (!(await this.repo.isSessionOf(agentId, request.session_id, since))) {
        refuse(`resume session ${request.session_id}`, "it is not a session of its own turns; only the operator may continue another's session");
      }
    }
  }

  /**
   * A request made by or for an agent runs with that agent's permissions: its effective tools (never
   * more than the request asks), its disallowed tools, and its sandbox as working directory. An
   * identified connection always acts as itself.
   */
  private async withAgentLimits(request: AsyncParams, context: EventContext): Promise<AsyncParams> {
    const agentId = context.agentId ?? request.agent_id;
    if (agentId === undefined) return request;
    const limited: AsyncParams = { ...request, agent_id: agentId };
    // Only "none found" means no permissions; any other failure is the request's error, not a verdict on the agent.
    const permissions = await this.bus.requestOne(permissionGetAgent, { agent_id: agentId }, context).catch((error: unknown) => {
      if (error instanceof EventError && error.code === 'not_found') return undefined;
      throw error;
    });
    // An agent's own turn (with its bridge) never runs unlimited: permissions removed from a running agent stop its turns.
    if (!permissions && (context.agentId !== undefined || request.agent_bridge)) {
      throw new EventError('permission_denied', `Agent ${agentId} has no permissions, so its turns do not run; give it some with permission:set_agent`);
    }
    if (permissions) {
      const wanted = request.allowed_tools;
      limited.allowed_tools = wanted ? wanted.filter((tool) => permissions.effective_tools.includes(tool)) : permissions.effective_tools;
      limited.disallowed_tools = [...new Set([...(request.disallowed_tools ?? []), ...permissions.permissions.tools.disallowed])];
    }
    const sandbox = await this.bus.requestOne(sandboxGet, { agent_id: agentId }, context).catch(() => undefined);
    if (sandbox && (context.agentId !== undefined || request.cwd === undefined)) limited.cwd = sandbox.sandbox.workspace;
    return limited;
  }

  /** The composed profile of the agent a request runs for, so costs add up by profile; none for an agent KSI does not manage. */
  private async profileOf(agentId: string | undefined, context: EventContext): Promise<string | null> {
    if (agentId === undefined) return null;
    const agent = await this.bus.requestOne(agentProfile, { agent_id: agentId }, context).catch(() => undefined);
    return agent?.profile ?? null;
  }
}

/**
 * Whose usage limits a request counts against: its provider's, and for the Claude CLI its login
 * (CLAUDE_CONFIG_DIR) when it names one. The model was checked by the params' schema.
 */
function accountOf(params: AsyncParams): string {
  const provider = parseModel(params.model as string)?.provider ?? 'claude-cli';
  return provider === 'claude-cli' && params.claude_config_dir !== undefined ? `${provider}:${params.claude_config_dir}` : provider;
}

/**
 * A cwd that is no folder is invalid_params naming it. Only what spawn would misreport (a missing
 * folder reads as a missing CLI) is refused here; any other trouble with the path is the attempt's to report.
 */
async function checkFolder(cwd: string): Promise<void> {
  const found = await fs.promises.stat(cwd).catch((error: NodeJS.ErrnoException) => error);
  const missing = !(found instanceof fs.Stats) && (found.code === 'ENOENT' || found.code === 'ENOTDIR');
  const notFolder = found instanceof fs.Stats && !found.isDirectory();
  if (!missing && !notFolder) return;
  const message = missing ? `No folder ${cwd}: give an existing folder for the Claude CLI to work in` : `${cwd} is not a folder`;
  throw new EventError('invalid_params', `cwd: ${message}`, { details: [{ path: 'cwd', message }] });
}
