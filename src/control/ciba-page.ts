/**
 * The control page for CIBA: pending backchannel authentication requests, each with Approve and
 * Deny, standing in for the user's authentication device. Same look as the sign-in pages; every
 * value escaped; no scripts or external assets.
 */
import type { PendingCibaRequest } from '../provider/extensions/ciba.ts';
import { escapeHtml, layout } from '../provider/ui/pages.ts';

export interface CibaPageParams {
  requests: readonly PendingCibaRequest[];
  /** Form action of a decision: `<base>/<auth_req_id>/approve` or `/deny`. */
  actionBase: string;
  /** The page's own URL, for the refresh link. */
  self: string;
  /** Epoch seconds, for "expires in". */
  now: number;
  notice?: string;
}

export function cibaControlPage(p: CibaPageParams): string {
  const items = p.requests.map((request) => {
    const action = (decision: string) => `${p.actionBase}/${encodeURIComponent(request.authReqId)}/${decision}`;
    const user = request.username && request.username !== request.sub ? `${request.username} (sub ${request.sub})` : request.sub;
    const rows = [
      ['Client', `${escapeHtml(request.clientName ?? request.clientId)} <code>${escapeHtml(request.clientId)}</code>`],
      ['User', escapeHtml(user)],
      ['Scope', `<code>${escapeHtml(request.scope)}</code>`],
      ...(request.resources.length > 0
        ? [['Resources', request.resources.map((resource) => `<code>${escapeHtml(resource)}</code>`).join(' ')]]
        : []),
      ['Delivery', escapeHtml(request.deliveryMode)],
      ['Expires in', `${escapeHtml(Math.max(0, request.expiresAt - p.now))} s`],
    ];
    return `<li class="request" style="border-top:1px solid var(--border);padding:.75rem 0" data-auth-req-id="${escapeHtml(request.authReqId)}">
${request.bindingMessage ? `<p class="binding">Binding message: <strong>${escapeHtml(request.bindingMessage)}</strong></p>\n` : ''}<dl>
${rows.map(([term, value]) => `<dt>${term}</dt><dd>${value}</dd>`).join('\n')}
</dl>
<div class="actions">
<form method="post" action="${escapeHtml(action('approve'))}"><button type="submit">Approve</button></form>
<form method="post" action="${escapeHtml(action('deny'))}"><button type="submit" class="secondary">Deny</button></form>
</div>
</li>`;
  });
  const list =
    items.length > 0
      ? `<ul class="requests" style="list-style:none;padding:0">\n${items.join('\n')}\n</ul>`
      : '<p class="muted">No pending requests.</p>';
  const notice = p.notice ? `<p class="alert" role="alert">${escapeHtml(p.notice)}</p>\n` : '';
  const body = `<h1>Pending CIBA requests</h1>
<p>Back-channel sign-in requests waiting for the user. Approve or deny each in place of the user’s authentication device.</p>
${notice}${list}
<p><a href="${escapeHtml(p.self)}">Refresh</a></p>`;
  return layout('Pending CIBA requests', body);
}
