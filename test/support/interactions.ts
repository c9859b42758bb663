/**
 * Drives the testbed's HTML pages over plain HTTP, the way a person with a browser would, but
 * reading the login and consent answers as JSON (`Accept: application/json` → `{ redirectTo }`).
 */
import { hiddenInput, type UserAgent } from './agent.ts';

export interface Credentials {
  username: string;
  password: string;
}

export const ALICE: Credentials = { username: 'alice', password: 'alice-password' };

export interface PageResult {
  /** The last URL requested (or the redirect target that matched `stopAt`). */
  url: URL;
  /** The final page, unless the walk stopped at `stopAt`. */
  status?: number;
  html?: string;
  /** The pages answered on the way, in order: 'login', 'consent'. */
  steps: Array<'login' | 'consent'>;
}

/** The `action` of the first form on a page, resolved against the page URL. */
export function formAction(html: string, pageUrl: URL): URL {
  const match = /<form[^>]*\baction="([^"]+)"/.exec(html);
  if (!match) throw new Error(`no form on ${pageUrl.pathname}`);
  return new URL(match[1].replace(/&amp;/g, '&'), pageUrl);
}

/** POSTs a form through the agent (its cookies), asking for JSON. */
export async function postPageForm(
  agent: UserAgent,
  url: URL | string,
  form: Record<string, string>,
  accept = 'application/json',
): Promise<Response> {
  return agent.fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept },
    body: new URLSearchParams(form).toString(),
  });
}

/** Answers the device flow's confirmation page: `confirm` (continue to sign-in) or `abort`. */
export function answerDeviceConfirmation(
  agent: UserAgent,
  confirmPage: string,
  pageUrl: URL,
  answer: 'confirm' | 'abort',
): Promise<Response> {
  return postPageForm(
    agent,
    formAction(confirmPage, pageUrl),
    {
      xsrf: hiddenInput(confirmPage, 'xsrf'),
      user_code: hiddenInput(confirmPage, 'user_code'),
      [answer]: 'yes',
    },
    'text/html',
  );
}

async function redirectTo(response: Response, step: string): Promise<URL> {
  const body = (await response.json()) as { redirectTo?: string; error?: string };
  if (response.status !== 200 || !body.redirectTo) throw new Error(`${step} answered ${response.status}: ${JSON.stringify(body)}`);
  return new URL(body.redirectTo);
}

/**
 * Follows redirects from `start`; whenever the testbed shows its login page, signs in with
 * `credentials` through the login form POST, and whenever it shows a consent page, allows. Stops at
 * a URL starting with `stopAt` or at the first other page (e.g. the device flow's success page).
 */
export async function walkInteractions(
  agent: UserAgent,
  start: URL | string,
  credentials: Credentials,
  stopAt?: string,
): Promise<PageResult> {
  let current = new URL(start);
  const steps: PageResult['steps'] = [];
  for (let step = 0; step < 10; step += 1) {
    const { url, response } = await agent.follow(current, stopAt);
    if (!response) return { url, steps };
    const html = await response.text();
    if (/\/interaction\/[^/]+$/.test(url.pathname) && html.includes('name="password"')) {
      steps.push('login');
      current = await redirectTo(await postPageForm(agent, formAction(html, url), { ...credentials }), 'login');
    } else if (/\/interaction\/[^/]+$/.test(url.pathname) && html.includes('name="decision"')) {
      steps.push('consent');
      current = await redirectTo(await postPageForm(agent, formAction(html, url), { decision: 'allow' }), 'consent');
    } else {
      return { url, status: response.status, html, steps };
    }
  }
  throw new Error(`no end to the interactions from ${start}`);
}

export { hiddenInput };
