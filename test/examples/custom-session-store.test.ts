/** A custom session store: the session lives in Redis (connect-redis), the cookie holds its id, and logout removes it. */
import { describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { customSessionStore } from '../../examples/express-openid-connect/custom-session-store.ts';
import { browserTest, expectPage, useBrowser } from '../support/browser.ts';
import { ALICE } from '../support/interactions.ts';
import { signInOnPage } from '../support/sign-in-page.ts';
import { requireRedis, testRedisUrl } from '../support/store.ts';
import { useExample } from './harness.ts';

const redisUp = await requireRedis();
const redisBrowserTest = redisUp ? browserTest : it.skip;

describe('example custom-session-store (connect-redis on REDIS_URL)', () => {
  const inBrowser = useBrowser();
  const example = useExample(customSessionStore, { redis: true });

  redisBrowserTest('after sign-in the session is a Redis key named by the cookie; logout deletes it', async () => {
    const redis = new Redis(testRedisUrl());
    try {
      await inBrowser(async (page) => {
        await page.goto(`${example.origin()}/`);
        await signInOnPage(page, ALICE, `${example.origin()}/`);
        expect(await page.textContent('h1')).toBe('hello alice');

        const prefix = example.settings().redisPrefix;
        const keys = await redis.keys(`${prefix}*`);
        expect(keys).toHaveLength(1);
        const cookie = (await page.context().cookies(example.origin())).find((each) => each.name === 'appSession')!;
        expect(keys[0]).toBe(`${prefix}${cookie.value}`);
        const stored = JSON.parse((await redis.get(keys[0]))!) as { data: { id_token: string } };
        expect(stored.data.id_token.split('.')).toHaveLength(3);

        await page.click('a[href="/logout"]');
        await expectPage(page, 'Sign out');
        await page.click('button[name="logout"][value="yes"]');
        await page.waitForURL((url) => url.href.startsWith(`${example.testbed().issuer}/interaction/`));
        expect(await redis.keys(`${prefix}*`)).toEqual([]);
      });
    } finally {
      redis.disconnect();
    }
  });
});
