/**
 * Back-Channel Logout: alice signs in to the app (web-app, session in Redis), then signs out at the
 * testbed itself (its end_session page, as another app of hers would send her there); the testbed
 * POSTs a logout token to the app, which records it in Redis and ends her app session.
 */
import { describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { backchannelLogout } from '../../examples/express-openid-connect/backchannel-logout.ts';
import { browserTest, expectPage, useBrowser } from '../support/browser.ts';
import { ALICE } from '../support/interactions.ts';
import { signInOnPage } from '../support/sign-in-page.ts';
import { requireRedis, testRedisUrl } from '../support/store.ts';
import { useExample } from './harness.ts';

const redisUp = await requireRedis();
const redisBrowserTest = redisUp ? browserTest : it.skip;

/** Waits for a Redis key (the logout token's entry arrives over the back channel). */
async function keyAppears(redis: Redis, key: string): Promise<string> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const value = await redis.get(key);
    if (value !== null) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${key} did not appear in Redis`);
}

describe('example backchannel-logout (web-app, backchannelLogout with connect-redis)', () => {
  const inBrowser = useBrowser();
  const example = useExample(backchannelLogout, { redis: true });

  redisBrowserTest('a sign-out at the testbed reaches /backchannel-logout and the app session ends', async () => {
    const redis = new Redis(testRedisUrl());
    try {
      await inBrowser(async (page) => {
        const { issuer } = example.testbed();
        const prefix = example.settings().redisPrefix;
        await page.goto(`${example.origin()}/login`);
        await signInOnPage(page, ALICE, `${example.origin()}/`);
        expect(await page.textContent('h1')).toBe('hello alice');
        const sid = (await page.textContent('p'))!.match(/^Session (\S+)\./)![1];
        const [sessionKey] = await redis.keys(`${prefix}*`);

        // Not the app's /logout: the testbed's own sign-out page ends alice's session there.
        await page.goto(`${issuer}/session/end`);
        await expectPage(page, 'Sign out');
        await page.click('button[name="logout"][value="yes"]');
        await expectPage(page, 'Signed out');

        // The library stores the logout token's sid and sub (connect-redis keys under the prefix).
        const entry = JSON.parse(await keyAppears(redis, `${prefix}${issuer}|${sid}`)) as { cookie: { expires: number } };
        expect(entry.cookie.expires).toBeGreaterThan(Date.now());
        expect(await redis.exists(`${prefix}${issuer}|alice`)).toBe(1);

        // The app's cookie is still in the browser, but its session is over.
        await page.goto(`${example.origin()}/`);
        expect(await page.textContent('h1')).toBe('Signed out');
        expect(await redis.exists(sessionKey)).toBe(0);

        // Signing in again clears the stale sub entry, and she stays signed in.
        await page.click('a[href="/login"]');
        await signInOnPage(page, ALICE, `${example.origin()}/`);
        expect(await page.textContent('h1')).toBe('hello alice');
        expect(await redis.exists(`${prefix}${issuer}|alice`)).toBe(0);
        await page.reload();
        expect(await page.textContent('h1')).toBe('hello alice');
      });
    } finally {
      redis.disconnect();
    }
  });
});
