import { Injectable } from '@nestjs/common';
import { approvalDecide, approvalGet, approvalList, approvalPrompt, approvalSubscribe, type HandlerResult, type ParamsOut } from '../../../libs/client/src';
import type { EventContext } from '../../events/event-context';
import { EventError } from '../../events/event-error';
import { Handles } from '../../events/handles.decorator';
import { ApprovalService } from './approval.service';

@Injectable()
export class ApprovalHandlers {
  constructor(private readonly approvals: ApprovalService) {}

  /** Asked by an agent's MCP bridge, as the agent: the call is always the agent's own. */
  @Handles(approvalPrompt)
  prompt(params: ParamsOut<typeof approvalPrompt>, context: EventContext): Promise<HandlerResult<typeof approvalPrompt>> {
    if (context.agentId === undefined) throw new EventError('permission_denied', "approval:prompt is asked by an agent's MCP bridge (identified with system:identify); the operator decides with approval:decide");
    return this.approvals.prompt(context.agentId, params, context.connection);
  }

  @Handles(approvalList)
  async list({ status }: ParamsOut<typeof approvalList>): Promise<HandlerResult<typeof approvalList>> {
    return { approvals: await this.approvals.list(status) };
  }

  @Handles(approvalGet)
  get({ approval_id }: ParamsOut<typeof approvalGet>): Promise<HandlerResult<typeof approvalGet>> {
    return this.approvals.get(approval_id);
  }

  @Handles(approvalDecide)
  decide(params: ParamsOut<typeof approvalDecide>, context: EventContext): Promise<HandlerResult<typeof approvalDecide>> {
    return this.approvals.decide(params, context);
  }

  @Handles(approvalSubscribe)
  subscribe(_params: ParamsOut<typeof approvalSubscribe>, context: EventContext): HandlerResult<typeof approvalSubscribe> {
    if (!context.connection) throw new EventError('invalid_request', 'approval:subscribe needs a socket connection to push to');
    this.approvals.subscribe(context.connection);
    return { subscribed: true };
  }
}
