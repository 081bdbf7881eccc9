import { Inject, Injectable } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import type { ApprovalRecord } from '../../../libs/client/src';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { DAEMON_LOG } from '../../logging/logger';

/** How long the receiver has to answer; a slow one never holds an approval back. */
const WEBHOOK_TIMEOUT_MS = 5_000;

/**
 * Tells an outside system (chat, paging) of each new approval request: a POST of
 * `{"event":"approval:requested","approval":{…}}` to KSI_APPROVAL_WEBHOOK_URL with
 * `X-KSI-Signature: sha256=<hex HMAC-SHA256 of the body under KSI_APPROVAL_WEBHOOK_SECRET>`.
 * Best effort: a failure is logged, and the request waits in the inbox all the same.
 */
@Injectable()
export class ApprovalWebhook {
  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    @Inject(DAEMON_LOG) private readonly log: Logger,
  ) {}

  notify(approval: ApprovalRecord): void {
    const webhook = this.config.approvalWebhook;
    if (!webhook) return;
    const body = JSON.stringify({ event: 'approval:requested', approval });
    const signature = createHmac('sha256', webhook.secret).update(body).digest('hex');
    fetch(webhook.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-ksi-signature': `sha256=${signature}` },
      body,
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    })
      .then((response) => {
        if (!response.ok) this.log.warn({ approval_id: approval.approval_id, status: response.status }, 'approval webhook answered with an error');
      })
      .catch((error: Error) => this.log.warn({ approval_id: approval.approval_id, err: error.message }, 'approval webhook not reached'));
  }
}
