/** The scenario catalog as a person reads it, in headless Chromium. */
import { describe, expect } from '@jest/globals';
import { browserTest, expectPage, useBrowser } from '../support/browser.ts';
import { useTestbed } from '../support/testbed.ts';

describe('the scenario catalog page through headless Chromium', () => {
  const testbed = useTestbed({ apis: false });
  const inBrowser = useBrowser();

  browserTest('lists every scenario with its defect, and a name opens that issuer’s discovery', async () => {
    await inBrowser(async (page) => {
      await page.goto(`${testbed().issuer}/_testbed/scenarios`);
      await expectPage(page, 'Conformance scenarios');
      const rows = page.locator('tbody tr');
      expect(await rows.count()).toBe(testbed().scenarios.length);
      const row = rows.filter({ hasText: 'id-token-invalid-nonce' });
      await expect(row.locator('td').nth(2).textContent()).resolves.toContain('nonce');
      // The table fits the page: no cell pushes the page wider than the window.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await row.getByRole('link', { name: 'id-token-invalid-nonce' }).click();
      await page.waitForURL(/\/scenarios\/id-token-invalid-nonce\/\.well-known\/openid-configuration$/);
      const metadata = JSON.parse((await page.locator('body').textContent()) ?? '{}') as { issuer?: string };
      expect(metadata.issuer).toBe(`${testbed().issuer}/scenarios/id-token-invalid-nonce`);
    });
  });
});
