/**
 * The console page of an issuer (`<issuer>/_testbed/`): its live requests and the issuer at a
 * glance, server-rendered in the look of the sign-in pages. One inline stylesheet and one inline
 * script, allowed by their hashes in the page's Content-Security-Policy (nothing else runs, nothing
 * is fetched from elsewhere). The script opens the request stream (`…/requests/stream`) and, for
 * each event, fetches the new rows rendered here; it also sends the action buttons' requests.
 */
import { createHash } from 'node:crypto';
import { escapeHtml, layout } from '../../provider/ui/pages.ts';
import { copyButton } from './glance.ts';
import { relative } from './requests.ts';

export interface ConsolePageParams {
  issuer: string;
  /** The control routes' path as the browser sees it (`<mount path>/_testbed`). */
  base: string;
  discovery: string;
  /** The record's cursor the rows were rendered at: the stream starts after it. */
  cursor: number;
  /** The issuer's time, epoch seconds (the page counts "expires in" on it). */
  now: number;
  /** Rendered request rows, newest first. */
  rows: string;
  clientIds: readonly string[];
  endpoints: readonly string[];
  /** Rendered glance sections. */
  glance: string;
  /** Links beside the discovery URL (the scenario catalog, the CIBA page). */
  links: ReadonlyArray<readonly [label: string, href: string]>;
}

const STYLE = `
main.wide{max-width:90rem}
.card{border-top:1px solid var(--border);padding:.5rem 0 1rem}
h2 .small,h2 button{margin-left:.5rem;vertical-align:middle}
h4{margin:.75rem 0 .25rem;font-size:.95rem}
h5{margin:.5rem 0 .15rem;font-size:.8rem;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
button.small{padding:.2rem .6rem;font-size:.8rem;font-weight:600}
.bar{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;margin:.5rem 0}
.bar label{display:inline;margin:0;font-weight:400}
select{font:inherit;padding:.25rem .4rem;border:1px solid var(--border);border-radius:6px;background:var(--card);color:var(--fg)}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
#requests td{white-space:nowrap}
#requests td:last-child{white-space:normal;min-width:14rem}
tr.req.s4 .status{color:var(--danger-fg);background:var(--danger-bg)}
tr.req.s5 .status{color:#fff;background:#b3261e}
tr.req.s3 .status{background:var(--code-bg)}
.status{display:inline-block;padding:0 .4rem;border-radius:6px;font-weight:600;font-variant-numeric:tabular-nums}
.status,.verdict{font-size:.85rem}
code.error{color:var(--danger-fg)}
.hint{color:var(--muted);font-size:.82rem;max-width:40rem;white-space:normal}
tr.detail>td{background:var(--code-bg);white-space:normal}
tr.filtered{display:none}
button.open{padding:0 .35rem;border:0;background:transparent;color:var(--fg);font-size:.9rem}
.tokens{display:grid;grid-template-columns:repeat(auto-fit,minmax(20rem,1fr));gap:.5rem 1.5rem}
dl.claims,dl.params{grid-template-columns:max-content minmax(0,1fr);font-size:.85rem}
tr.detail code,#glance td code{white-space:normal;overflow-wrap:anywhere;word-break:normal}
select{max-width:16rem}
.rel{color:var(--muted)}
.verdict{padding:0 .4rem;border-radius:6px;font-weight:600}
.verdict.ok{background:#d7f5dd;color:#11632a}.verdict.bad{background:var(--danger-bg);color:var(--danger-fg)}.verdict.wait{background:#fff2c6;color:#6b4f00}
@media (prefers-color-scheme:dark){.verdict.ok{background:#163d22;color:#9be3ac}.verdict.wait{background:#3d3312;color:#f3d77a}}
#live{font-size:.85rem}
#live.on::before{content:"● ";color:#1f9d48}
#notice:empty{display:none}
#notice{background:var(--code-bg);border-radius:8px;padding:.5rem .75rem;font-size:.85rem;white-space:pre-wrap}
@media (max-width:640px){body{padding:0}main.wide{border-radius:0;border-left:0;border-right:0;padding:1rem .6rem}table{font-size:.8rem}th,td{padding:.35rem .3rem}
#requests thead{display:none}#requests table,#requests tbody{display:block}
#requests tr.req{display:flex;flex-wrap:wrap;align-items:baseline;gap:.15rem .6rem;padding:.4rem 0;border-bottom:1px solid var(--border)}
#requests tr.req td{border:0;padding:0}#requests tr.req td:empty{display:none}#requests tr.req td:last-child{flex-basis:100%;min-width:0}
#requests tr.detail:not([hidden]),#requests tr.detail>td{display:block}#requests tr.filtered{display:none}}
`.trim();

/** The page's behaviour: live rows, filters, opening rows, "expires in", copy buttons and action buttons. */
const SCRIPT = `
(() => {
  const relative = ${relative.toString()};
  const main = document.querySelector('[data-console]');
  const base = main.dataset.base;
  const skewMs = Number(main.dataset.now) * 1000 - Date.now();
  const rows = document.getElementById('rows');
  const live = document.getElementById('live');
  const reload = document.getElementById('reload');
  const notice = document.getElementById('notice');
  const byClient = document.getElementById('filter-client');
  const byEndpoint = document.getElementById('filter-endpoint');
  let cursor = Number(main.dataset.cursor);

  const addOption = (select, value) => {
    if (!value || Array.from(select.options).some((option) => option.value === value)) return;
    select.append(new Option(value, value));
  };
  const filter = (scope) => {
    for (const row of scope.querySelectorAll('tr[data-seq]')) {
      const shown = (!byClient.value || row.dataset.client === byClient.value) && (!byEndpoint.value || row.dataset.endpoint === byEndpoint.value);
      row.classList.toggle('filtered', !shown);
    }
  };
  byClient.addEventListener('change', () => filter(rows));
  byEndpoint.addEventListener('change', () => filter(rows));

  let fetching = false;
  let again = false;
  const fetchRows = async () => {
    if (fetching) { again = true; return; }
    fetching = true;
    try {
      const answer = await fetch(base + '/console/requests?since=' + cursor, { headers: { accept: 'text/html' } });
      if (!answer.ok) return;
      const next = Number(answer.headers.get('x-cursor'));
      const template = document.createElement('template');
      template.innerHTML = await answer.text();
      for (const row of template.content.querySelectorAll('tr.req')) {
        addOption(byClient, row.dataset.client);
        addOption(byEndpoint, row.dataset.endpoint);
      }
      filter(template.content);
      document.getElementById('no-requests')?.remove();
      rows.prepend(template.content);
      if (next > cursor) cursor = next;
      tick();
    } finally {
      fetching = false;
      if (again) { again = false; fetchRows(); }
    }
  };

  const offline = (text) => {
    live.textContent = text;
    live.classList.remove('on');
    reload.hidden = false;
  };
  if (typeof EventSource === 'function') {
    const stream = new EventSource(base + '/requests/stream?since=' + cursor);
    stream.addEventListener('open', () => { live.textContent = 'live'; live.classList.add('on'); reload.hidden = true; });
    stream.addEventListener('request', () => fetchRows());
    stream.addEventListener('error', () => {
      if (stream.readyState === EventSource.CLOSED) offline('live updates stopped');
      else { live.textContent = 'reconnecting…'; live.classList.remove('on'); }
    });
  } else {
    offline('no live updates in this browser');
  }
  reload.addEventListener('click', () => location.reload());

  const tick = () => {
    const now = (Date.now() + skewMs) / 1000;
    for (const element of document.querySelectorAll('.rel[data-at]')) {
      const at = Number(element.dataset.at);
      const when = relative(at, now);
      element.textContent = element.dataset.claim === 'exp' ? (at >= now ? 'expires ' : 'expired ') + when : when;
    }
  };
  setInterval(tick, 1000);

  const show = (text) => { notice.textContent = text; };
  const copy = async (text, button) => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const area = document.createElement('textarea');
      area.value = text;
      document.body.append(area);
      area.select();
      document.execCommand('copy');
      area.remove();
    }
    const label = button.textContent;
    button.textContent = 'Copied';
    setTimeout(() => { button.textContent = label; }, 1500);
  };

  const refreshGlance = async () => {
    const answer = await fetch(base + '/console/glance', { headers: { accept: 'text/html' } });
    if (answer.ok) document.getElementById('glance').innerHTML = await answer.text();
  };

  const act = async (button) => {
    const { method, url, body } = button.dataset;
    button.disabled = true;
    try {
      const answer = await fetch(url, {
        method,
        headers: body ? { 'content-type': 'application/json', accept: 'application/json' } : { accept: 'application/json' },
        body,
      });
      const text = await answer.text();
      show(method + ' ' + url + ' → ' + answer.status + (text ? '\\n' + text : ''));
      if (button.dataset.after === 'clear-rows' && answer.ok) rows.replaceChildren();
      await refreshGlance();
    } catch (error) {
      show(method + ' ' + url + ' failed: ' + error.message);
    } finally {
      button.disabled = false;
    }
  };

  document.addEventListener('click', (event) => {
    const button = event.target.closest('button');
    if (!button) return;
    if (button.dataset.copy !== undefined) copy(button.dataset.copy, button);
    else if (button.dataset.method) act(button);
    else if (button.id === 'refresh-glance') refreshGlance();
    else if (button.classList.contains('open')) {
      const detail = document.getElementById(button.getAttribute('aria-controls'));
      const open = button.getAttribute('aria-expanded') !== 'true';
      button.setAttribute('aria-expanded', String(open));
      button.textContent = open ? '▾' : '▸';
      detail.hidden = !open;
    }
  });
})();
`.trim();

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** Every inline `<style>` and `<script>` of a page, allowed by its hash; nothing else (CSP Level 3). */
export function contentSecurityPolicy(html: string): string {
  const hashes = (tag: string) => [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((match) => sha256(match[1]));
  const scripts = hashes('script');
  return [
    "default-src 'none'",
    `style-src ${hashes('style').join(' ')}`,
    `script-src ${scripts.length > 0 ? scripts.join(' ') : "'none'"}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const options = (values: readonly string[]) =>
  values.map((value) => `<option value="${escapeHtml(value)}">${escapeHtml(value)}</option>`).join('');

export function consolePage(p: ConsolePageParams): string {
  const body = `<div data-console data-base="${escapeHtml(p.base)}" data-cursor="${escapeHtml(p.cursor)}" data-now="${escapeHtml(p.now)}">
<style>${STYLE}</style>
<h1>Console</h1>
<p><code>${escapeHtml(p.issuer)}</code></p>
<p class="bar">Discovery <a href="${escapeHtml(p.discovery)}"><code>${escapeHtml(p.discovery)}</code></a> ${copyButton(p.discovery)}${p.links.map(([label, href]) => ` <a href="${escapeHtml(href)}">${escapeHtml(label)}</a>`).join(' ·')}</p>
<p id="notice" role="status" aria-live="polite"></p>
<section id="requests" class="card">
<h2>Requests <span id="live" role="status">not live</span> <button type="button" id="reload" class="small" hidden>Reload</button></h2>
<div class="bar">
<label>client <select id="filter-client"><option value="">all</option>${options(p.clientIds)}</select></label>
<label>endpoint <select id="filter-endpoint"><option value="">all</option>${options(p.endpoints)}</select></label>
<button type="button" class="secondary small" data-method="DELETE" data-url="${escapeHtml(`${p.base}/requests`)}" data-after="clear-rows">Clear</button>
<a href="${escapeHtml(`${p.base}/requests`)}">JSON</a>
</div>
<div class="scroll"><table>
<thead><tr><th>time (UTC)</th><th>endpoint</th><th>client</th><th>user</th><th>status</th><th>error and hint</th></tr></thead>
<tbody id="rows">
${p.rows || '<tr id="no-requests"><td colspan="6" class="muted">No requests yet: point a relying party at the discovery URL.</td></tr>'}
</tbody></table></div>
</section>
<div class="bar"><h2>The issuer at a glance</h2><button type="button" id="refresh-glance" class="secondary small">Refresh</button>
<button type="button" class="secondary small" data-method="POST" data-url="${escapeHtml(`${p.base}/reset`)}" title="users, clients, keys, faults, clock and record back to the fixture">Reset to the fixture</button></div>
<div id="glance">
${p.glance}
</div>
<script>${SCRIPT}</script>
</div>`;
  return layout(`Console · ${p.issuer}`, body, { wide: true });
}
