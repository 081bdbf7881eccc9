import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import type { ResultOf } from '../../../libs/client/src/contract';
import { act } from './api';
import { relative } from './format';

export type Approval = ResultOf<'approval:list'>['approvals'][number];

/** Pending tool permissions, each with Allow and Deny; the agent's turn continues once decided. */
export function ApprovalsPanel({ approvals, onDecided }: { approvals: Approval[] | undefined; onDecided: () => void }) {
  const [failure, setFailure] = useState<string | undefined>();
  const decide = async (approval: Approval, decision: 'allow' | 'deny') => {
    setFailure(undefined);
    try {
      await act('approval:decide', { approval_id: approval.approval_id, decision, ...(decision === 'deny' && { reason: 'Denied from the dashboard' }) });
    } catch (error) {
      setFailure(`${approval.approval_id}: ${(error as Error).message}`);
    }
    onDecided();
  };
  return html`<section class="panel approvals" data-testid="approvals">
    <h2>Approvals <span class="count">${approvals?.length || ''}</span></h2>
    ${failure && html`<p class="error" role="alert">${failure}</p>`}
    ${approvals === undefined
      ? html`<p class="muted">Loading…</p>`
      : approvals.length === 0
        ? html`<p class="muted">Nothing waits for a decision.</p>`
        : approvals.map(
            (approval) => html`<article class="approval" key=${approval.approval_id} data-testid="approval" data-approval-id=${approval.approval_id}>
              <header><b class="mono">${approval.agent_id}</b> wants <b>${approval.tool_name}</b> <span class="muted">${relative(approval.requested_at)}, denied ${relative(approval.timeout_at)} if undecided</span></header>
              <pre>${approval.subject}</pre>
              <div class="buttons">
                <button class="allow" onClick=${() => decide(approval, 'allow')}>Allow</button>
                <button class="deny" onClick=${() => decide(approval, 'deny')}>Deny</button>
              </div>
            </article>`,
          )}
  </section>`;
}
