/**
 * The console page (`<issuer>/_testbed/`) in headless Chromium: an RP's requests appear as they
 * happen, a token row opens to its decoded tokens, a fault added by a test is listed and removed
 * with its button, a scenario's verdict shows — and the page runs only its own script (its CSP).
 */
import { describe, expect } from '@jest/globals';
import type { Page } from 'playwright-core';
import { browserTest, useBrowser } from '../support/browser.ts';
import { userTokens } from '../support/resource-servers.ts';
import { useTestbed } from '../support/testbed.ts';

describe('the console page', () => {
  const testbed = useTestbed({ apis: false });
  const inBrowser = useBrowser();
  const consoleUrl = () => `${testbed().issuer}/_testbed/`;

  /** Opens the console and waits until its stream is live; fails the test on a script error or a CSP violation. */
  const openConsole = async (page: Page) => {
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      // The browser's own favicon request is no fault of the page (the pages have no icon).
      if (message.type() === 'error' && !message.location().url.endsWith('/favicon.ico'))
        problems.push(`${message.text()} ${message.location().url}`);
    });
    const answer = await page.goto(consoleUrl());
    expect(answer?.status()).toBe(200);
    expect(answer?.headers()['content-security-policy']).toMatch(/script-src 'sha256-[\w+/=]+'/);
    await page.getByRole('heading', { level: 1, name: 'Console' }).waitFor();
    await page.locator('#live.on').waitFor();
    return problems;
  };

  browserTest("shows an RP's code flow as it happens, without a reload; a token row opens to its decoded claims", async () => {
    await inBrowser(async (page) => {
      const problems = await openConsole(page);
      await page.evaluate(() => {
        (window as unknown as { notReloaded: boolean }).notReloaded = true;
      });
      const cursor = testbed().main.requests.cursor;

      // openid-client 6 signs alice in to web-app while the console is open.
      const { tokens } = await userTokens(testbed(), 'http://localhost:9401/', 'profile');

      const tokenRow = page.locator('tr.req[data-endpoint="token"][data-client="web-app"]').first();
      await tokenRow.waitFor();
      for (const endpoint of ['discovery', 'authorization', 'token']) {
        await expect(page.locator(`tr.req[data-endpoint="${endpoint}"]`).count()).resolves.toBeGreaterThan(0);
      }
      expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
      // Newest first: the token request is above the authorization request that led to it.
      const seqs = await page.locator('tr.req').evaluateAll((rows) => rows.map((row) => Number((row as HTMLElement).dataset.seq)));
      expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
      expect(Math.min(...seqs.filter((seq) => seq > cursor))).toBe(cursor + 1);
      await expect(tokenRow.locator('td').nth(3).textContent()).resolves.toBe('alice');
      await expect(tokenRow.locator('.status').textContent()).resolves.toBe('200');

      await tokenRow.getByRole('button', { name: '▸' }).click();
      const detail = page.locator(`#detail-${await tokenRow.getAttribute('data-seq')}`);
      await detail.waitFor({ state: 'visible' });
      const idToken = detail.locator('[data-token="id_token"]');
      await expect(idToken.locator('dd[data-claim="sub"]').first().textContent()).resolves.toBe('alice');
      await expect(idToken.locator('dd[data-claim="aud"]').textContent()).resolves.toBe('web-app');
      await expect(idToken.locator('dd[data-claim="kid"]').textContent()).resolves.toMatch(/\S/); // the header, decoded
      const accessToken = detail.locator('[data-token="access_token"]');
      await expect(accessToken.locator('dd[data-claim="aud"]').textContent()).resolves.toBe('http://localhost:9401/');
      await expect(accessToken.locator('.for').textContent()).resolves.toContain('profile');
      // Time claims as dates, and how long the token has left.
      const exp = idToken.locator('dd[data-claim="exp"]');
      await expect(exp.locator('time').getAttribute('datetime')).resolves.toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
      await expect(exp.locator('.rel').textContent()).resolves.toMatch(/^expires in \d+ (s|min)$/);

      // "Copy as curl": the secrets as shell variables, never their values.
      const curl = (await detail.getByRole('button', { name: 'Copy as curl' }).getAttribute('data-copy')) ?? '';
      expect(curl).toContain(`curl '${testbed().issuer}/token'`);
      expect(curl).toContain(`--data-urlencode "client_secret=$CLIENT_SECRET"`);
      expect(curl).toContain(`--data-urlencode "code=$CODE"`);
      expect(curl).toContain(`--data-urlencode 'redirect_uri=http://localhost:3001/callback'`);
      // The requests carry no secret (the users' fixture passwords are on the page by design: it answers this machine only).
      const html = await page.locator('#requests').innerHTML();
      for (const secret of ['web-app-secret', 'alice-password', tokens.access_token, tokens.id_token!]) expect(html).not.toContain(secret);
      await expect(page.locator('#users tr[data-username="alice"]').textContent()).resolves.toContain('alice-password');

      // Filters: by endpoint, then by client.
      await page.locator('#filter-endpoint').selectOption('token');
      const visible = await page.locator('tr.req:visible').evaluateAll((rows) => rows.map((row) => (row as HTMLElement).dataset.endpoint));
      expect(new Set(visible)).toEqual(new Set(['token']));
      await page.locator('#filter-endpoint').selectOption('');
      await page.locator('#filter-client').selectOption('web-app');
      const clients = await page.locator('tr.req:visible').evaluateAll((rows) => rows.map((row) => (row as HTMLElement).dataset.client));
      expect(new Set(clients)).toEqual(new Set(['web-app']));
      expect(problems).toEqual([]);
    });
  });

  browserTest('an error row carries its hint: a code used twice, a redirect_uri not registered (with the registered ones)', async () => {
    await inBrowser(async (page) => {
      await openConsole(page);
      const issuer = testbed().issuer;
      await fetch(`${issuer}/auth?client_id=web-app&response_type=code&scope=openid&redirect_uri=http://localhost:3001/elsewhere`, {
        redirect: 'manual',
      });
      const redirect = page.locator('tr.req[data-endpoint="authorization"]', { hasText: 'invalid_redirect_uri' });
      await redirect.waitFor();
      await expect(redirect.locator('.hint').textContent()).resolves.toContain('registered: http://localhost:3001/callback');

      const answer = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: 'not-a-code-of-this-issuer',
          redirect_uri: 'http://localhost:3001/callback',
          client_id: 'web-app',
          client_secret: 'web-app-secret',
        }),
      });
      expect(answer.status).toBe(400);
      const refused = page.locator('tr.req[data-endpoint="token"]', { hasText: 'invalid_grant' });
      await refused.waitFor();
      await expect(refused.locator('.hint').textContent()).resolves.toContain('the code was used twice');
    });
  });

  browserTest('a fault added by the test is listed; its Remove button takes it out (DELETE /_testbed/faults/<id>)', async () => {
    await inBrowser(async (page) => {
      await openConsole(page);
      const added = await fetch(`${testbed().issuer}/_testbed/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          id: 'console-test',
          endpoint: 'userinfo',
          times: 1,
          respond: { status: 503, body: { error: 'temporarily_unavailable' } },
        }),
      });
      expect(added.status).toBe(201);
      await page.getByRole('button', { name: 'Refresh' }).click();
      const row = page.locator('#faults tr[data-fault-id="console-test"]');
      await row.waitFor();
      await expect(row.textContent()).resolves.toContain('answers 503');

      await row.getByRole('button', { name: 'Remove' }).click();
      await row.waitFor({ state: 'detached' });
      await expect(page.locator('#notice').textContent()).resolves.toContain('→ 204');
      const listed = (await (await fetch(`${testbed().issuer}/_testbed/faults`)).json()) as { faults: Array<{ id: string }> };
      expect(listed.faults.map((fault) => fault.id)).not.toContain('console-test');
    });
  });

  browserTest("a session is listed; its Log out button ends it (DELETE /_testbed/sessions/<sid>) and shows the RPs' answers", async () => {
    await inBrowser(async (page) => {
      await userTokens(testbed(), 'http://localhost:9401/', 'profile');
      const sessions = (await (await fetch(`${testbed().issuer}/_testbed/sessions`)).json()) as {
        sessions: Array<{ sid: string; sub: string }>;
      };
      const session = sessions.sessions.find((listed) => listed.sub === 'alice');
      expect(session).toBeDefined();
      await openConsole(page);
      const row = page.locator(`#sessions tr[data-sid="${session!.sid}"]`);
      await expect(row.textContent()).resolves.toContain('web-app');
      await row.getByRole('button', { name: 'Log out' }).click();
      await row.waitFor({ state: 'detached' });
      const notice = (await page.locator('#notice').textContent()) ?? '';
      expect(notice).toContain(`DELETE /_testbed/sessions/${session!.sid} → 200`);
      expect(JSON.parse(notice.slice(notice.indexOf('\n') + 1))).toMatchObject({
        ended: session!.sid,
        logout: [expect.objectContaining({ client_id: 'web-app' })],
      });
      const after = (await (await fetch(`${testbed().issuer}/_testbed/sessions`)).json()) as { sessions: Array<{ sid: string }> };
      expect(after.sessions.map((listed) => listed.sid)).not.toContain(session!.sid);
    });
  });

  browserTest('the clock offset shows, and its button puts the issuer back on real time (PUT /_testbed/clock)', async () => {
    await inBrowser(async (page) => {
      const set = await fetch(`${testbed().issuer}/_testbed/clock`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ offset_s: 300 }),
      });
      expect(set.status).toBe(200);
      await openConsole(page);
      await expect(page.locator('#clock').textContent()).resolves.toContain('+300 s ahead of real time');
      await page.getByRole('button', { name: 'Back to real time' }).click();
      await page.locator('#clock', { hasText: 'Real time.' }).waitFor();
      const clock = (await (await fetch(`${testbed().issuer}/_testbed/clock`)).json()) as { offset_s: number };
      expect(clock.offset_s).toBe(0);
    });
  });

  browserTest("a scenario's standing run shows its verdict in the main console's table", async () => {
    await inBrowser(async (page) => {
      const run = `${testbed().issuer}/scenarios/discovery-issuer-mismatch`;
      await fetch(`${run}/.well-known/openid-configuration`); // the defect
      await fetch(`${run}/auth?client_id=web-app&response_type=code&scope=openid`, { redirect: 'manual' }); // the RP went on
      await openConsole(page);
      const row = page.locator('#scenarios tr[data-scenario="discovery-issuer-mismatch"]');
      await expect(row.locator('.verdict').textContent()).resolves.toBe('failed');
      await expect(row.locator('.hint').textContent()).resolves.toContain('called authorization');
      await expect(page.locator('#scenarios tr[data-scenario="id-token-invalid-iss"] td').nth(2).textContent()).resolves.toBe(
        'not run yet',
      );
    });
  });

  browserTest('without EventSource the page offers a reload, which shows what happened meanwhile', async () => {
    await inBrowser(async (page) => {
      await page.addInitScript(() => {
        (window as unknown as { EventSource?: unknown }).EventSource = undefined;
      });
      await page.goto(consoleUrl());
      const reload = page.getByRole('button', { name: 'Reload' });
      await reload.waitFor();
      await expect(page.locator('#live').textContent()).resolves.toBe('no live updates in this browser');
      const before = await page.locator('tr.req').count();
      await fetch(testbed().urls.jwks);
      await reload.click();
      await page.waitForFunction((count) => document.querySelectorAll('tr.req').length > count, before);
    });
  });
});
