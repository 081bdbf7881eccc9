import { html } from 'htm/preact';
import type { ResultOf } from '../../../libs/client/src/contract';
import { relative } from './format';

export type QueueStatus = ResultOf<'completion:queue_status'>;
export type RetryStatus = ResultOf<'completion:retry_status'>;

/** The completion queue: what waits, what runs, what retries when, and what a usage limit parked. */
export function QueuePanel({ queue, retries }: { queue: QueueStatus | undefined; retries: RetryStatus | undefined }) {
  if (!queue) return html`<section class="panel queue" data-testid="queue"><h2>Queue</h2><p class="muted">Loading…</p></section>`;
  const busy = queue.queues.filter((entry) => entry.queued + entry.processing > 0);
  return html`<section class="panel queue" data-testid="queue">
    <h2>Queue</h2>
    <p class="figures">
      <span data-testid="queue-running"><b>${queue.processing}</b> running of ${queue.limit}</span>
      <span data-testid="queue-queued"><b>${queue.queued}</b> queued</span>
      <span><b>${retries?.count ?? 0}</b> retrying</span>
      <span><b>${queue.usage_windows.reduce((sum, window) => sum + window.parked, 0)}</b> parked</span>
    </p>
    ${busy.length > 0 &&
    html`<table>
      <thead><tr><th>Queue</th><th class="num">Queued</th><th class="num">Running</th></tr></thead>
      <tbody>${busy.map((entry) => html`<tr key=${entry.queue_key}><td class="mono">${entry.queue_key}</td><td class="num">${entry.queued}</td><td class="num">${entry.processing}</td></tr>`)}</tbody>
    </table>`}
    ${retries && retries.retrying.length > 0 &&
    html`<h3>Retrying</h3>
      <table>
        <thead><tr><th>Request</th><th class="num">Attempt</th><th>Next attempt</th><th>Last error</th></tr></thead>
        <tbody>
          ${retries.retrying.map(
            (entry) => html`<tr key=${entry.request_id}>
              <td class="mono">${entry.request_id}</td>
              <td class="num">${entry.attempts}/${entry.max_attempts}</td>
              <td>${relative(entry.next_attempt_at)}</td>
              <td class="error">${entry.last_error ?? ''}</td>
            </tr>`,
          )}
        </tbody>
      </table>`}
    ${queue.usage_windows.length > 0 &&
    html`<h3>Parked by a usage limit</h3>
      <ul class="windows">
        ${queue.usage_windows.map((window) => html`<li key=${window.account}><span class="mono">${window.account}</span>: ${window.parked} parked, resumes ${relative(window.paused_until)}${window.reason ? ` (${window.reason})` : ''}</li>`)}
      </ul>`}
  </section>`;
}
