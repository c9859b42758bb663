/**
 * `--browser chromium`: the same sign-in in Debian's Chromium through playwright-core, for RPs
 * whose pages need JavaScript. One browser for the run, a fresh context (own cookies) per
 * sign-in. playwright-core is a development dependency of this package: a global install needs
 * it beside (`npm i playwright-core`), and /usr/bin/chromium (or CHROMIUM_PATH).
 */
import type { ConformanceBrowser, DriveContext } from './drive.ts';
import type { Hop, Navigation } from './http-browser.ts';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];
const ACTION_TIMEOUT_MS = 10_000;
/** How long a page may sit still before the navigation counts as over. */
const SETTLE_MS = 300;

export async function chromiumBrowsers(): Promise<{ open: DriveContext['newBrowser']; close(): Promise<void> }> {
  let playwright: typeof import('playwright-core');
  try {
    playwright = await import('playwright-core');
  } catch {
    throw new Error('--browser chromium needs playwright-core: npm i playwright-core');
  }
  const browser = await playwright.chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ARGS });
  return {
    async open(testbedOrigin, credentials) {
      const context = await browser.newContext();
      context.setDefaultTimeout(ACTION_TIMEOUT_MS);
      const page = await context.newPage();
      const hops: Hop[] = [];
      page.on('response', (response) => {
        const request = response.request();
        if (!request.isNavigationRequest() || request.frame() !== page.mainFrame()) return;
        const location = response.headers().location;
        hops.push({ method: request.method(), url: response.url(), status: response.status(), ...(location ? { location } : {}) });
      });
      const settle = async () => {
        // Until no navigation started for SETTLE_MS (form_post pages submit themselves).
        for (let seen = -1; seen !== hops.length; ) {
          seen = hops.length;
          await page.waitForLoadState('load').catch(() => undefined);
          await page.waitForTimeout(SETTLE_MS);
        }
      };
      const answerTestbedPage = async (): Promise<boolean> => {
        if (!page.url().startsWith(testbedOrigin)) return false;
        if (await page.locator('input[name="password"]').count()) {
          if (credentials.password === undefined)
            throw new Error(`the testbed shows its login page and the plan gives no password for ${credentials.username}`);
          await page.fill('input[name="username"]', credentials.username);
          await page.fill('input[name="password"]', credentials.password);
          await page.click('button[type="submit"]');
          return true;
        }
        for (const selector of ['button[name="decision"][value="allow"]', 'button[name="logout"][value="yes"]']) {
          if (await page.locator(selector).count()) {
            await page.click(selector);
            return true;
          }
        }
        return false;
      };
      const conformanceBrowser: ConformanceBrowser = {
        async open(url): Promise<Navigation> {
          const from = hops.length;
          await page.goto(url).catch((error: Error) => {
            if (!/ERR_ABORTED|interrupted/.test(error.message)) throw error;
          });
          for (let steps = 0; steps < 10; steps += 1) {
            await settle();
            if (!(await answerTestbedPage())) break;
          }
          const mine = hops.slice(from);
          let callback: Hop | undefined;
          for (let index = 1; index < mine.length; index += 1)
            if (mine[index - 1].url.startsWith(testbedOrigin) && !mine[index].url.startsWith(testbedOrigin)) {
              callback = mine[index];
              break;
            }
          const last = mine.at(-1);
          return {
            hops: mine,
            final: { url: page.url(), status: last?.status ?? 0, body: await page.content() },
            ...(callback ? { callback } : {}),
          };
        },
        async status(url) {
          const response = await context.request.get(url, { maxRedirects: 0, timeout: ACTION_TIMEOUT_MS });
          return response.status();
        },
        close: () => context.close(),
      };
      return conformanceBrowser;
    },
    close: () => browser.close(),
  };
}
