import { describe, expect, it } from '@jest/globals';
import { confirm as engineConfirmForm, input as engineInputForm } from 'oidc-provider/lib/helpers/user_code_form.js';
import { readEngineForm } from '../../../src/provider/engine/engine-form.ts';
import {
  consentPage,
  deviceConfirmPage,
  deviceInputPage,
  deviceSuccessPage,
  errorPage,
  escapeHtml,
  loginPage,
  logoutPage,
  logoutSuccessPage,
} from '../../../src/provider/ui/pages.ts';

const EVIL = '<script>alert(1)</script>';
const ESCAPED_EVIL = '&lt;script&gt;alert(1)&lt;/script&gt;';

// The device flow's forms as oidc-provider renders them; the logout form is inline in its
// lib/actions/end_session.js, copied here.
const deviceInputForm = engineInputForm('/device', 'abc123', undefined, 'base-20');
const deviceConfirmForm = engineConfirmForm('/device', 'abc123', 'WDJB-MJHT');
const logoutForm =
  '<form id="op.logoutForm" method="post" action="/session/end/confirm"><input type="hidden" name="xsrf" value="abc123"/></form>';

function allPages(clientName: string): Record<string, string> {
  return {
    login: loginPage({
      action: '/interaction/x/login',
      abortUrl: '/interaction/x/abort',
      clientName,
      clientId: clientName,
      username: clientName,
      error: clientName,
    }),
    consent: consentPage({
      action: '/interaction/x/confirm',
      abortUrl: '/interaction/x/abort',
      clientName,
      clientId: clientName,
      username: clientName,
      scopes: ['openid', 'profile', clientName],
      claims: [clientName],
      resources: [{ indicator: clientName, name: clientName, scopes: [clientName] }],
    }),
    deviceInput: deviceInputPage({ formHtml: deviceInputForm, userCode: clientName, error: clientName }),
    deviceConfirm: deviceConfirmPage({
      formHtml: deviceConfirmForm,
      clientName,
      clientId: clientName,
      userCode: clientName,
      deviceInfo: { ip: clientName, userAgent: clientName },
    }),
    deviceSuccess: deviceSuccessPage({ clientName }),
    logout: logoutPage({ formHtml: logoutForm, clientName }),
    logoutSuccess: logoutSuccessPage({ clientName }),
    error: errorPage({ error: clientName, description: clientName, status: 400 }),
  };
}

describe('escapeHtml', () => {
  it('escapes the five HTML-significant characters', () => {
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });
  it('stringifies non-strings and maps null/undefined to empty', () => {
    expect(escapeHtml(42)).toBe('42');
    expect(escapeHtml(undefined)).toBe('');
    expect(escapeHtml(null)).toBe('');
  });
});

describe('pages', () => {
  it('every page is a complete English document without external assets', () => {
    for (const [name, html] of Object.entries(allPages('Example App'))) {
      expect({ name, ok: html.startsWith('<!DOCTYPE html>') }).toEqual({ name, ok: true });
      expect(html).toContain('<html lang="en">');
      expect(html).toContain('<meta charset="utf-8">');
      expect(html).toContain('<meta name="viewport"');
      expect(html).toContain('<main>');
      expect(html).toMatch(/<h1>[^<]+<\/h1>/);
      expect(html).toContain('</html>');
      expect(html).not.toMatch(/<script|<link|https?:\/\//i);
      expect({ name, handlers: /\son[a-z]+=/i.test(html) }).toEqual({ name, handlers: false });
    }
  });

  it('escapes every interpolated value', () => {
    for (const [name, html] of Object.entries(allPages(EVIL))) {
      expect({ name, raw: html.includes(EVIL) }).toEqual({ name, raw: false });
      expect({ name, escaped: html.includes(ESCAPED_EVIL) }).toEqual({ name, escaped: true });
    }
    const attr = loginPage({
      action: '/a" onclick="x',
      abortUrl: 'javascript:"x"',
      clientName: 'c',
      clientId: 'c',
      username: `"><img src=x onerror=alert(1)>`,
    });
    expect(attr).not.toContain('" onclick="');
    expect(attr).not.toContain('<img');
    // A code the engine prefills (it escapes it in its form) is escaped again, not inserted raw.
    const prefilled = deviceInputPage({ formHtml: engineInputForm('/device', 'abc123', EVIL, 'base-20') });
    expect(prefilled).not.toContain(EVIL);
    expect(prefilled).toContain(`value="${ESCAPED_EVIL}"`);
  });

  it('login page has labelled username and password inputs, a submit button and a cancel link', () => {
    const html = loginPage({
      action: '/interaction/abc/login',
      abortUrl: '/interaction/abc/abort',
      clientName: 'Example App',
      clientId: 'example-client',
      username: 'alice',
      error: 'Invalid username or password',
    });
    expect(html).toContain('<form method="post" action="/interaction/abc/login">');
    expect(html).toMatch(/<input[^>]*\bid="username"[^>]*\bname="username"[^>]*>/);
    expect(html).toMatch(/<input[^>]*\bid="password"[^>]*\bname="password"[^>]*\btype="password"[^>]*>/);
    expect(html).toContain('<label for="username">Username</label>');
    expect(html).toContain('<label for="password">Password</label>');
    expect(html).toContain('autocomplete="username"');
    expect(html).toContain('autocomplete="current-password"');
    expect(html).toContain('value="alice"');
    expect(html).toContain('Sign in to continue to <strong>Example App</strong>');
    expect(html).toContain('example-client');
    expect(html).toContain('<button type="submit">Sign in</button>');
    expect(html).toContain('<a href="/interaction/abc/abort">Cancel</a>');
    expect(html).toMatch(/role="alert"[^>]*>Invalid username or password</);
    expect(html.indexOf('role="alert"')).toBeLessThan(html.indexOf('<form'));
    expect(loginPage({ action: '/a', abortUrl: '/b', clientName: 'c', clientId: 'c' })).not.toContain('role="alert"');
  });

  it('consent page lists scopes with descriptions, claims, resources, and allow/deny buttons', () => {
    const html = consentPage({
      action: '/interaction/abc/confirm',
      abortUrl: '/interaction/abc/abort',
      clientName: 'Example App',
      clientId: 'example-client',
      username: 'alice',
      scopes: ['openid', 'email', 'custom:read'],
      claims: ['email_verified'],
      resources: [{ indicator: 'https://api.example.test', name: 'Orders API', scopes: ['orders:read'] }],
    });
    expect(html).toContain('<h1>Authorize Example App</h1>');
    expect(html).toContain('<code>openid</code> — Sign you in');
    expect(html).toContain('<code>email</code> — Your email address');
    expect(html).toContain('<li><code>custom:read</code></li>');
    expect(html).toContain('<code>email_verified</code>');
    expect(html).toContain('Orders API');
    expect(html).toContain('<code>https://api.example.test</code>');
    expect(html).toContain('<code>orders:read</code>');
    expect(html).toContain('<form method="post" action="/interaction/abc/confirm">');
    expect(html).toMatch(/<button type="submit" name="decision" value="allow"[^>]*>Allow<\/button>/);
    expect(html).toMatch(/<button type="submit" name="decision" value="deny"[^>]*>Deny<\/button>/);
  });

  it("device input page is one form with the engine's action and xsrf, one labelled code field and one button", () => {
    const html = deviceInputPage({
      formHtml: engineInputForm('/device', 'abc123', 'WDJB-MJHT', 'base-20'),
      userCode: 'OTHER',
      error: 'Invalid code',
    });
    expect(html.match(/<form\b[^>]*>/g)).toEqual(['<form id="op.deviceInputForm" method="post" action="/device">']);
    expect(html.match(/<input\b[^>]*>/g)).toEqual([
      '<input type="hidden" name="xsrf" value="abc123">',
      expect.stringMatching(/^<input id="user_code" name="user_code" type="text" [^>]*value="WDJB-MJHT">$/),
    ]);
    expect(html).not.toContain(' form=');
    expect(html).toContain('<label for="user_code">Code shown on your device</label>');
    expect(html.match(/<button\b[^>]*>[^<]*<\/button>/g)).toEqual(['<button type="submit">Continue</button>']);
    expect(html.indexOf('</form>')).toBeGreaterThan(html.indexOf('<button'));
    expect(html).toContain('<h1>Connect a device</h1>');
    expect(html).toMatch(/role="alert"[^>]*>Invalid code</);
  });

  it('device input page shows the posted code when the engine prefills none, else an empty field', () => {
    expect(deviceInputPage({ formHtml: deviceInputForm, userCode: 'WDJB-MJHT' })).toMatch(/<input id="user_code"[^>]*value="WDJB-MJHT">/);
    expect(deviceInputPage({ formHtml: deviceInputForm })).toMatch(/<input id="user_code"[^>]*value="">/);
  });

  it('device confirm page inserts formHtml verbatim with bound confirm/abort buttons', () => {
    const html = deviceConfirmPage({
      formHtml: deviceConfirmForm,
      clientName: 'TV App',
      clientId: 'tv',
      userCode: 'WDJB-MJHT',
      deviceInfo: { ip: '192.0.2.1', userAgent: 'SmartTV/1.0' },
    });
    expect(html).toContain(deviceConfirmForm);
    expect(html).toContain('Is this the code shown on <strong>TV App</strong>?');
    expect(html).toContain('WDJB-MJHT</code>');
    expect(html).toContain('192.0.2.1');
    expect(html).toContain('SmartTV/1.0');
    // The engine's form posts confirm=yes itself: the button adds nothing, "No" adds abort=yes.
    expect(html).toMatch(/<button type="submit" form="op.deviceConfirmForm">Yes, continue<\/button>/);
    expect(html).toMatch(/<button type="submit" form="op.deviceConfirmForm" name="abort" value="yes"[^>]*>No, cancel<\/button>/);
  });

  it('device success, logout and logout success pages', () => {
    expect(deviceSuccessPage({ clientName: 'TV App' })).toContain('You can return to <strong>TV App</strong>.');

    const logout = logoutPage({ formHtml: logoutForm, clientName: 'Example App' });
    expect(logout).toContain(logoutForm);
    expect(logout).toContain('Do you want to sign out of <strong>Example App</strong>?');
    expect(logout).toMatch(/<button type="submit" form="op.logoutForm" name="logout" value="yes"[^>]*>Yes, sign me out<\/button>/);
    expect(logout).toMatch(/<button type="submit" form="op.logoutForm"[^>]*>No, stay signed in<\/button>/);
    expect(logoutPage({ formHtml: logoutForm })).toContain('Do you want to sign out?');

    expect(logoutSuccessPage({ clientName: 'Example App' })).toContain('You have signed out of <strong>Example App</strong>.');
    expect(logoutSuccessPage({})).toContain('You have signed out.');
  });

  it('error page shows the error code, description and a specific hint', () => {
    const html = errorPage({
      error: 'invalid_redirect_uri',
      description: "redirect_uri did not match any of the client's registered redirect_uris",
      status: 400,
    });
    expect(html).toContain('<h1>Sign-in request rejected</h1>');
    expect(html).toContain('<code>invalid_redirect_uri</code>');
    expect(html).toContain('redirect_uri did not match any of the client&#39;s registered redirect_uris');
    expect(html).toContain('redirect_uris list');

    const client = errorPage({ error: 'invalid_client', status: 401 });
    expect(client).toContain('<h1>Something went wrong</h1>');
    expect(client).toContain('<code>invalid_client</code>');
    expect(client).toContain('client_id is unknown');

    expect(errorPage({ error: 'server_error' })).toContain('<code>server_error</code>');
  });
});

describe('readEngineForm', () => {
  it("reads the action and fields of the engine's code-entry form, unescaping values", () => {
    expect(readEngineForm(engineInputForm('/device?a=1&amp;b=2', 'abc123', 'AB<CD', 'digits'))).toEqual({
      id: 'op.deviceInputForm',
      action: '/device?a=1&b=2',
      inputs: [
        { name: 'xsrf', type: 'hidden', value: 'abc123' },
        { name: 'user_code', type: 'text', value: 'AB<CD' },
      ],
    });
    expect(readEngineForm(deviceConfirmForm).inputs).toEqual([
      { name: 'xsrf', type: 'hidden', value: 'abc123' },
      { name: 'user_code', type: 'hidden', value: 'WDJB-MJHT' },
      { name: 'confirm', type: 'hidden', value: 'yes' },
    ]);
  });

  it('throws when there is no form with an action', () => {
    expect(() => readEngineForm('<p>no form</p>')).toThrow('no form with an action');
    expect(() => readEngineForm('<form method="post"></form>')).toThrow('no form with an action');
  });
});
