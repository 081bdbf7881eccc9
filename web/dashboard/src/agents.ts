import { html } from 'htm/preact';
import type { ResultOf } from '../../../libs/client/src/contract';
import { short, usd } from './format';

export type Agent = ResultOf<'agent:list'>['agents'][number];
export interface AgentCost {
  cost_usd: number;
  turns: number;
}

/** Every agent: status, profile, session, turns, cost and its last error. */
export function AgentsPanel({ agents, costs }: { agents: Agent[] | undefined; costs: Map<string, AgentCost> }) {
  return html`<section class="panel agents" data-testid="agents">
    <h2>Agents <span class="count">${agents?.length ?? ''}</span></h2>
    ${agents === undefined
      ? html`<p class="muted">Loading…</p>`
      : agents.length === 0
        ? html`<p class="muted">No agents. Start one with <code>ksi agent spawn PROFILE</code>.</p>`
        : html`<table>
            <thead><tr><th>Agent</th><th>Status</th><th>Profile</th><th>Session</th><th class="num">Turns</th><th class="num">Cost</th><th class="num">Pending</th><th>Last error</th></tr></thead>
            <tbody>
              ${agents.map((agent) => {
                const cost = costs.get(agent.agent_id);
                const lastError = agent.failed_turns[0];
                return html`<tr key=${agent.agent_id} data-testid="agent-row" data-agent-id=${agent.agent_id} data-status=${agent.status}>
                  <td class="mono">${agent.agent_id}</td>
                  <td><span class=${`badge status-${agent.status}`}>${agent.status}</span></td>
                  <td>${agent.profile}</td>
                  <td class="mono" title=${agent.session_id ?? ''}>${short(agent.session_id)}</td>
                  <td class="num">${cost?.turns ?? 0}</td>
                  <td class="num">${usd(cost?.cost_usd ?? 0)}</td>
                  <td class="num">${agent.pending_messages}</td>
                  <td class="error" title=${lastError?.error ?? ''}>${lastError ? `${lastError.code}: ${lastError.error}` : ''}</td>
                </tr>`;
              })}
            </tbody>
          </table>`}
  </section>`;
}
