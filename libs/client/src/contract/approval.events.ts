import { defineInternal, definePush, defineRequest } from './definition';
import { jsonObject, nonEmpty, z } from './schema';

/** The MCP tool the Claude CLI calls through `--permission-prompt-tool`, as the agent's `ksi mcp` server offers it. */
export const APPROVAL_PROMPT_TOOL = 'approval_prompt';
/** Its full name for `--permission-prompt-tool` (the MCP server is `ksi` in every agent's config). */
export const APPROVAL_PROMPT_TOOL_NAME = `mcp__ksi__${APPROVAL_PROMPT_TOOL}`;

export const APPROVAL_STATUSES = ['pending', 'allowed', 'denied', 'expired', 'withdrawn'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

export const approvalRecord = z.object({
  approval_id: z.string(),
  agent_id: z.string(),
  tool_name: z.string(),
  input: jsonObject().describe('The tool call’s input, as the CLI sent it'),
  subject: z.string().describe('What rules match: Tool(argument), e.g. Bash(git status)'),
  tool_use_id: z.string().nullable(),
  status: z
    .enum(APPROVAL_STATUSES)
    .describe('expired: nobody decided before its timeout, so it was denied; withdrawn: the call that asked went with its node (the agent moved), and its turn asks again where it runs now'),
  reason: z.string().nullable().describe('Why it was decided so, as the decider said'),
  decided_by: z.string().nullable().describe('operator, agent:<id> (a parent agent), timeout or withdrawn'),
  remember: z.boolean().describe('The decision became a rule for this agent'),
  requested_at: z.number().describe('Epoch seconds'),
  timeout_at: z.number().describe('Undecided by then (epoch seconds), it is denied'),
  decided_at: z.number().nullable(),
});
export type ApprovalRecord = z.output<typeof approvalRecord>;

/** What the Claude CLI expects back from its permission prompt tool (one text block of this JSON). */
export const approvalAnswer = z.discriminatedUnion('behavior', [
  z.object({ behavior: z.literal('allow'), updatedInput: jsonObject().describe('The input the tool runs with') }),
  z.object({ behavior: z.literal('deny'), message: z.string().describe('Why, for the model') }),
]);
export type ApprovalAnswer = z.output<typeof approvalAnswer>;

const approvalId = nonEmpty('The approval_id approval:list or approval:requested gave');

export const approvalPrompt = defineRequest('approval:prompt', {
  summary: "An agent's CLI asks to use a tool its allow list does not cover (the MCP tool approval_prompt): the agent's rules decide, else a person or its parent; waits for the decision",
  params: z.object({
    tool_name: nonEmpty('The tool the CLI wants to use'),
    input: jsonObject().default({}).describe('Its input'),
    tool_use_id: z.string().optional(),
  }),
  result: approvalAnswer,
});
export const approvalList = defineRequest('approval:list', {
  summary: 'Approval requests, oldest first: pending ones (the default) or those of another status',
  params: z.object({ status: z.enum(APPROVAL_STATUSES).default('pending') }),
  result: z.object({ approvals: z.array(approvalRecord) }),
});
export const approvalGet = defineRequest('approval:get', {
  summary: 'One approval request',
  params: z.object({ approval_id: approvalId }),
  result: approvalRecord,
});
export const approvalDecide = defineRequest('approval:decide', {
  summary: "Allows or denies a pending approval (the operator, or the agent's parent when its profile lets it); remember makes it a rule for that agent",
  params: z.object({
    approval_id: approvalId,
    decision: z.enum(['allow', 'deny']),
    reason: z.string().max(1_000).optional().describe('Told to the model on deny; kept with the decision'),
    remember: z.boolean().default(false).describe('Decide the same way for this agent’s later calls with the same subject'),
  }),
  result: approvalRecord,
});
export const approvalSubscribe = defineRequest('approval:subscribe', {
  summary: 'Pushes approval:requested for every new approval request to this connection',
  params: z.object({}),
  result: z.object({ subscribed: z.literal(true) }),
});
export const approvalRequested = definePush('approval:requested', {
  summary: 'A tool call waits for a decision (approval:decide); pushed to connections that sent approval:subscribe',
  payload: approvalRecord,
});
export const approvalDecided = defineInternal('approval:decided', {
  summary: 'A tool call was decided: by a rule, a person, a parent agent or the timeout, or withdrawn; with how long it waited',
  params: z.object({
    approval_id: z.string().nullable().describe('null when a rule decided at once'),
    agent_id: z.string(),
    tool_name: z.string(),
    subject: z.string(),
    decision: z.enum(['allow', 'deny']),
    decided_by: z.string().describe('rule, operator, agent:<id>, timeout, or withdrawn (the node the call waited on no longer runs its agent)'),
    rule: z.string().nullable().describe('The rule that matched, when a rule decided'),
    reason: z.string().nullable(),
    waited_ms: z.number(),
  }),
  result: z.void(),
});

/** Every approval event's definition. */
export const approvalEvents = [approvalPrompt, approvalList, approvalGet, approvalDecide, approvalSubscribe, approvalRequested, approvalDecided] as const;
