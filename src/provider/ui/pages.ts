/**
 * User-facing HTML pages of the identity provider (login, consent, device flow,
 * logout, errors). Pure functions returning complete HTML documents.
 *
 * Every interpolated value goes through `escapeHtml`, except the `formHtml`
 * parameters, which are trusted markup produced by oidc-provider: embedded as they are (their
 * fields hidden, submitted by this page's buttons through `form=`), or, for the code-entry form,
 * whose visible field has no label, read and rendered anew.
 * No external assets: one small inline stylesheet, no scripts.
 */
import { readEngineForm } from '../engine/index.ts';

export interface LoginPageParams {
  action: string;
  abortUrl: string;
  clientName: string;
  clientId: string;
  username?: string;
  error?: string;
}

export interface ConsentPageParams {
  action: string;
  abortUrl: string;
  clientName: string;
  clientId: string;
  username: string;
  scopes: string[];
  claims: string[];
  resources: Array<{ indicator: string; name?: string; scopes: string[] }>;
}

export interface DeviceInputPageParams {
  /** The engine's code-entry form: its action, hidden fields (xsrf) and the code it prefills, if any. */
  formHtml: string;
  /** The code the person posted, shown again when the engine's form prefills none. */
  userCode?: string;
  error?: string;
}

export interface DeviceConfirmPageParams {
  formHtml: string;
  clientName: string;
  clientId: string;
  userCode: string;
  deviceInfo?: Record<string, unknown>;
}

export interface DeviceSuccessPageParams {
  clientName: string;
}

export interface LogoutPageParams {
  formHtml: string;
  clientName?: string;
}

export interface LogoutSuccessPageParams {
  clientName?: string;
}

export interface ErrorPageParams {
  error: string;
  description?: string;
  status?: number;
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes a value for use in HTML text or a quoted attribute. `null`/`undefined` become ''. */
export function escapeHtml(value: unknown): string {
  if (value === undefined || value === null) return '';
  return String(value).replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch] ?? ch);
}

const STYLE = `
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#5b636e;--bg:#f4f5f7;--card:#fff;--border:#d5d9e0;--accent:#2f5bea;--accent-fg:#fff;--danger-bg:#fdecec;--danger-fg:#8a1c1c;--code-bg:#eef0f4}
@media (prefers-color-scheme:dark){:root{--fg:#e6e8eb;--muted:#9aa3ad;--bg:#14161a;--card:#1d2026;--border:#363b44;--accent:#6d8cff;--accent-fg:#0c0e12;--danger-bg:#3a1d1d;--danger-fg:#ffb4b4;--code-bg:#2a2e36}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;min-height:100vh;display:flex;align-items:flex-start;justify-content:center;padding:2rem 1rem;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{width:100%;max-width:26rem;background:var(--card);border:1px solid var(--border);border-radius:12px;padding:1.75rem 1.5rem;box-shadow:0 1px 3px rgba(0,0,0,.06)}
h1{font-size:1.4rem;line-height:1.25;margin:0 0 .75rem}
h2{font-size:1rem;margin:1.25rem 0 .5rem}
p{margin:.5rem 0}
.muted,small{color:var(--muted);font-size:.85rem}
code{font:.9em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--code-bg);padding:.1em .35em;border-radius:4px;word-break:break-all}
.code-big{display:block;text-align:center;font-size:1.75rem;letter-spacing:.12em;padding:.6rem;margin:1rem 0}
ul{padding-left:1.2rem;margin:.25rem 0}
li{margin:.25rem 0}
label{display:block;font-weight:600;margin:1rem 0 .3rem}
input[type=text],input[type=password],input:not([type]){width:100%;font:inherit;padding:.6rem .7rem;border:1px solid var(--border);border-radius:8px;background:var(--card);color:var(--fg)}
input:focus-visible,button:focus-visible,a:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.actions{display:flex;flex-wrap:wrap;gap:.6rem;margin-top:1.25rem;align-items:center}
button{font:inherit;font-weight:600;padding:.6rem 1.1rem;border-radius:8px;border:1px solid var(--accent);background:var(--accent);color:var(--accent-fg);cursor:pointer}
button.secondary{background:transparent;color:var(--fg);border-color:var(--border)}
a{color:var(--accent)}
.alert{background:var(--danger-bg);color:var(--danger-fg);border-radius:8px;padding:.6rem .8rem;margin:.75rem 0}
dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem .75rem;margin:.5rem 0}
dt{color:var(--muted)}
dd{margin:0;word-break:break-word}
main.wide{max-width:72rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;vertical-align:top;padding:.45rem .5rem;border-bottom:1px solid var(--border)}
th{font-weight:600}
td code{word-break:normal;white-space:nowrap}
@media (max-width:420px){main{padding:1.25rem 1rem;border-radius:0;border-left:0;border-right:0}body{padding:0}.actions button{flex:1 1 100%}}
`.trim();

/** Wraps a body fragment in a complete HTML document. `title` is escaped; `body` is inserted raw. */
/** A page of the testbed's look; `wide` for tables (the scenario catalog) rather than a form. */
export function layout(title: string, body: string, options: { wide?: boolean } = {}): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main${options.wide ? ' class="wide"' : ''}>
${body}
</main>
</body>
</html>
`;
}

function alert(message: string | undefined): string {
  return message ? `<p class="alert" role="alert">${escapeHtml(message)}</p>\n` : '';
}

const SCOPE_DESCRIPTIONS: Record<string, string> = {
  openid: 'Sign you in',
  profile: 'Your name and profile information',
  email: 'Your email address',
  address: 'Your postal address',
  phone: 'Your phone number',
  offline_access: 'Stay signed in (refresh tokens)',
};

function scopeItem(scope: string): string {
  const description = Object.hasOwn(SCOPE_DESCRIPTIONS, scope) ? SCOPE_DESCRIPTIONS[scope] : undefined;
  return `<li><code>${escapeHtml(scope)}</code>${description ? ` — ${escapeHtml(description)}` : ''}</li>`;
}

export function loginPage(p: LoginPageParams): string {
  const body = `<h1>Sign in</h1>
<p>Sign in to continue to <strong>${escapeHtml(p.clientName)}</strong></p>
<p><small>Client ID: <code>${escapeHtml(p.clientId)}</code></small></p>
${alert(p.error)}<form method="post" action="${escapeHtml(p.action)}">
<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus value="${escapeHtml(p.username ?? '')}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<div class="actions">
<button type="submit">Sign in</button>
<a href="${escapeHtml(p.abortUrl)}">Cancel</a>
</div>
</form>`;
  return layout('Sign in', body);
}

export function consentPage(p: ConsentPageParams): string {
  const parts: string[] = [];
  parts.push(`<h1>Authorize ${escapeHtml(p.clientName)}</h1>`);
  parts.push(
    `<p><strong>${escapeHtml(p.clientName)}</strong> (<code>${escapeHtml(p.clientId)}</code>) asks to access your account <strong>${escapeHtml(p.username)}</strong>.</p>`,
  );
  if (p.scopes.length > 0) {
    parts.push(`<h2>Requested permissions</h2>\n<ul>\n${p.scopes.map(scopeItem).join('\n')}\n</ul>`);
  }
  if (p.claims.length > 0) {
    parts.push(`<h2>Requested claims</h2>\n<ul>\n${p.claims.map((c) => `<li><code>${escapeHtml(c)}</code></li>`).join('\n')}\n</ul>`);
  }
  if (p.resources.length > 0) {
    const items = p.resources.map((r) => {
      const heading = r.name
        ? `<strong>${escapeHtml(r.name)}</strong> <code>${escapeHtml(r.indicator)}</code>`
        : `<code>${escapeHtml(r.indicator)}</code>`;
      const scopes =
        r.scopes.length > 0 ? `\n<ul>\n${r.scopes.map((s) => `<li><code>${escapeHtml(s)}</code></li>`).join('\n')}\n</ul>` : '';
      return `<li>${heading}${scopes}</li>`;
    });
    parts.push(`<h2>Access to APIs</h2>\n<ul>\n${items.join('\n')}\n</ul>`);
  }
  parts.push(`<form method="post" action="${escapeHtml(p.action)}">
<div class="actions">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</div>
</form>`);
  return layout(`Authorize ${p.clientName}`, parts.join('\n'));
}

export function deviceInputPage(p: DeviceInputPageParams): string {
  // One form with one labelled code field: the engine's form has its own unlabelled field, and a
  // second one bound to it by `form=` would post `user_code` twice, which the engine rejects.
  const form = readEngineForm(p.formHtml);
  const hidden = form.inputs.filter((input) => input.type === 'hidden');
  const userCode = form.inputs.find((input) => input.name === 'user_code' && input.type !== 'hidden')?.value || p.userCode || '';
  const body = `<h1>Connect a device</h1>
<p>Enter the code displayed on the device you want to connect.</p>
${alert(p.error)}<form${form.id ? ` id="${escapeHtml(form.id)}"` : ''} method="post" action="${escapeHtml(form.action)}">
${hidden.map((input) => `<input type="hidden" name="${escapeHtml(input.name)}" value="${escapeHtml(input.value)}">\n`).join('')}<label for="user_code">Code shown on your device</label>
<input id="user_code" name="user_code" type="text" autocomplete="off" autocapitalize="characters" spellcheck="false" required autofocus value="${escapeHtml(userCode)}">
<div class="actions">
<button type="submit">Continue</button>
</div>
</form>`;
  return layout('Connect a device', body);
}

function deviceInfoList(info: Record<string, unknown> | undefined): string {
  if (!info) return '';
  const rows: string[] = [];
  const ip = info.ip;
  const ua = info.userAgent ?? info.ua ?? info['user-agent'];
  if (ip !== undefined && ip !== null && ip !== '') {
    rows.push(`<dt>IP address</dt><dd><code>${escapeHtml(ip)}</code></dd>`);
  }
  if (ua !== undefined && ua !== null && ua !== '') {
    rows.push(`<dt>User agent</dt><dd>${escapeHtml(ua)}</dd>`);
  }
  if (rows.length === 0) return '';
  return `<h2>Device details</h2>\n<dl>\n${rows.join('\n')}\n</dl>\n`;
}

export function deviceConfirmPage(p: DeviceConfirmPageParams): string {
  // The engine's form already posts confirm=yes; "No" adds abort=yes, which the engine checks first.
  const body = `<h1>Confirm device</h1>
<p>Is this the code shown on <strong>${escapeHtml(p.clientName)}</strong>?</p>
<code class="code-big">${escapeHtml(p.userCode)}</code>
<p><small>Client ID: <code>${escapeHtml(p.clientId)}</code></small></p>
${deviceInfoList(p.deviceInfo)}${p.formHtml}
<div class="actions">
<button type="submit" form="op.deviceConfirmForm">Yes, continue</button>
<button type="submit" form="op.deviceConfirmForm" name="abort" value="yes" class="secondary">No, cancel</button>
</div>`;
  return layout('Confirm device', body);
}

export function deviceSuccessPage(p: DeviceSuccessPageParams): string {
  const body = `<h1>Device connected</h1>
<p>You can return to <strong>${escapeHtml(p.clientName)}</strong>.</p>`;
  return layout('Device connected', body);
}

function ofClient(clientName: string | undefined): string {
  return clientName ? ` of <strong>${escapeHtml(clientName)}</strong>` : '';
}

export function logoutPage(p: LogoutPageParams): string {
  const body = `<h1>Sign out</h1>
<p>Do you want to sign out${ofClient(p.clientName)}?</p>
${p.formHtml}
<div class="actions">
<button type="submit" form="op.logoutForm" name="logout" value="yes">Yes, sign me out</button>
<button type="submit" form="op.logoutForm" class="secondary">No, stay signed in</button>
</div>`;
  return layout('Sign out', body);
}

export function logoutSuccessPage(p: LogoutSuccessPageParams): string {
  const body = `<h1>Signed out</h1>
<p>You have signed out${ofClient(p.clientName)}.</p>`;
  return layout('Signed out', body);
}

function errorHint(error: string): string {
  switch (error) {
    case 'invalid_redirect_uri':
      return 'The redirect_uri sent by the application is not registered for this client. Add it to the redirect_uris list of the client’s fixture entry, or fix the URI the application sends.';
    case 'invalid_client':
      return 'The client_id is unknown to this identity provider, or its client configuration is invalid. Check the client’s fixture entry and the client_id the application sends.';
    case 'invalid_request':
      return 'The request sent by the application is malformed or missing a required parameter. Check the description above and the parameters the application sends.';
    default:
      return 'The request could not be completed. If the problem persists, check the application’s configuration and the identity provider logs.';
  }
}

export function errorPage(p: ErrorPageParams): string {
  const title = p.status === 400 ? 'Sign-in request rejected' : 'Something went wrong';
  const body = `<h1>${escapeHtml(title)}</h1>
<p role="alert">Error: <code>${escapeHtml(p.error)}</code></p>
${p.description ? `<p>${escapeHtml(p.description)}</p>\n` : ''}<p class="muted">${escapeHtml(errorHint(p.error))}</p>`;
  return layout(title, body);
}
