/**
 * Screenshots of the console (`npm run screenshots`): a testbed on a free port with some traffic
 * (a code flow signed in by the browser, a refused code, a client-credentials token, a fault rule,
 * the clock moved, a scenario's standing run), then the main issuer's console in headless Chromium,
 * light, dark and narrow, as PNGs in screenshots/ (git-ignored). `--docs` also writes the light one,
 * smaller, to docs/console.png (the README's).
 *
 * Needs Chromium at /usr/bin/chromium (scripts/setup-debian.sh installs it) or CHROMIUM=<path>.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { startTestbed } from '../src/index.ts';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const out = fileURLToPath(new URL('../screenshots/', import.meta.url));
const docs = fileURLToPath(new URL('../docs/console.png', import.meta.url));

const testbed = await startTestbed({ port: 0, apis: false, logLevel: 'silent', keyPool: false });
let browser: Browser | undefined;
try {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  await traffic(testbed.issuer, browser);
  mkdirSync(out, { recursive: true });
  const shots: Array<[name: string, options: { width: number; height: number; dark: boolean; fullPage: boolean }]> = [
    ['console-light.png', { width: 1280, height: 900, dark: false, fullPage: true }],
    ['console-dark.png', { width: 1280, height: 900, dark: true, fullPage: true }],
    ['console-narrow.png', { width: 390, height: 844, dark: false, fullPage: true }],
  ];
  for (const [name, shot] of shots) {
    await capture(browser, `${testbed.issuer}/_testbed/`, `${out}${name}`, shot);
    console.log(`wrote screenshots/${name}`);
  }
  if (process.argv.includes('--docs')) {
    await capture(browser, `${testbed.issuer}/_testbed/`, docs, { width: 1280, height: 820, dark: false, fullPage: false, scale: 0.7 });
    console.log(`wrote docs/console.png (${Math.round(statSync(docs).size / 1024)} kB)`);
  }
} finally {
  await browser?.close();
  await testbed.stop();
}

async function capture(
  on: Browser,
  url: string,
  path: string,
  shot: { width: number; height: number; dark: boolean; fullPage: boolean; scale?: number },
): Promise<void> {
  const context = await on.newContext({
    viewport: { width: shot.width, height: shot.height },
    colorScheme: shot.dark ? 'dark' : 'light',
    deviceScaleFactor: shot.scale ?? 1,
  });
  try {
    const page = await context.newPage();
    await page.goto(url);
    await page.locator('#live.on').waitFor();
    // One token request opened, to show its decoded tokens.
    await page.locator('tr.req[data-endpoint="token"].s2 button.open').first().click();
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path, fullPage: shot.fullPage });
  } finally {
    await context.close();
  }
}

/** What the console shows: a signed-in code flow, a code used twice, a machine token, a fault, a moved clock, a scenario run. */
async function traffic(issuer: string, on: Browser): Promise<void> {
  const form = (body: Record<string, string>) => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(body),
  });
  await fetch(`${issuer}/.well-known/openid-configuration`);
  const verifier = randomBytes(32).toString('base64url');
  const authorize = new URL(`${issuer}/auth`);
  authorize.search = new URLSearchParams({
    client_id: 'web-app',
    response_type: 'code',
    redirect_uri: 'http://localhost:3001/callback',
    scope: 'openid profile email offline_access',
    prompt: 'consent',
    resource: 'http://localhost:9401/',
    login_hint: 'alice',
    state: randomBytes(8).toString('base64url'),
    nonce: randomBytes(8).toString('base64url'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  const context = await on.newContext();
  const page = await context.newPage();
  // The fixture's auto_login signs alice in from login_hint; the callback's app is not running (the code is in the URL).
  const callback = page.waitForRequest((request) => request.url().startsWith('http://localhost:3001/callback'));
  await page.goto(authorize.href).catch(() => undefined);
  const code = new URL((await callback).url()).searchParams.get('code') ?? '';
  await context.close();
  const exchange = {
    grant_type: 'authorization_code',
    code,
    redirect_uri: 'http://localhost:3001/callback',
    code_verifier: verifier,
    client_id: 'web-app',
    client_secret: 'web-app-secret',
  };
  await fetch(`${issuer}/token`, form(exchange));
  await fetch(`${issuer}/token`, form(exchange)); // the same code again: invalid_grant
  await fetch(`${issuer}/auth?client_id=web-app&response_type=code&scope=openid&redirect_uri=http://localhost:3001/cb`, {
    redirect: 'manual',
  });
  await fetch(`${issuer}/token`, {
    ...form({ grant_type: 'client_credentials', scope: 'directory.read', resource: 'http://localhost:9402/' }),
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from('service-client:service-client-secret').toString('base64')}`,
    },
  });
  const json = (method: string, body: unknown) => ({ method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await fetch(
    `${issuer}/_testbed/faults`,
    json('POST', {
      id: 'third-refresh',
      endpoint: 'token',
      match: { grant_type: 'refresh_token' },
      after: 2,
      times: 1,
      respond: { status: 400, body: { error: 'invalid_grant' } },
    }),
  );
  await fetch(`${issuer}/_testbed/clock`, json('PUT', { offset_s: 300 }));
  await fetch(`${issuer}/scenarios/id-token-invalid-iss/.well-known/openid-configuration`);
  await fetch(`${issuer}/jwks`);
}
