/**
 * The runner's "browser" over HTTP: a cookie jar, redirects followed by hand, and the pages a
 * person meets on the way through a sign-in or sign-out answered as a person would — the
 * testbed's login page (username and password), its consent page (Allow), its sign-out page
 * (Yes), and auto-submitting form_post pages (OAuth 2.0 Form Post Response Mode §2). No
 * JavaScript: an RP whose pages need it runs with `--browser chromium`.
 */

export interface Hop {
  method: string;
  url: string;
  status: number;
  location?: string;
}

export interface Navigation {
  /** Every request made, in order. */
  hops: Hop[];
  /** The last answer (not a redirect and not a page the browser answers itself). */
  final: { url: string; status: number; body: string };
  /**
   * The RP's answer to the request that brought the authorization response (the first request
   * to the RP after the testbed), when the navigation went through the testbed and back.
   */
  callback?: Hop;
}

export interface Credentials {
  username: string;
  password?: string;
}

export interface BrowserOptions {
  /** The testbed's origin: its pages are the ones answered. */
  testbedOrigin: string;
  credentials: Credentials;
  /** Per request. */
  requestTimeoutMs: number;
  /** The whole navigation fails after this many requests. */
  maxHops?: number;
}

interface Form {
  action: string;
  method: string;
  id?: string;
  fields: Array<[string, string]>;
  buttons: Array<{ name?: string; value?: string; form?: string }>;
  inputs: Array<{ name: string; type: string; value: string }>;
}

export class HttpBrowser {
  readonly #cookies = new Map<string, { name: string; value: string; path: string }>();
  readonly #options: BrowserOptions;

  constructor(options: BrowserOptions) {
    this.#options = options;
  }

  /** Opens `url` and goes on as a person would until a page that asks nothing of them. */
  async open(url: string, init: { method?: string; body?: URLSearchParams } = {}): Promise<Navigation> {
    const hops: Hop[] = [];
    let callback: Hop | undefined;
    let wasAtTestbed = false;
    let request: { url: URL; method: string; body?: URLSearchParams } = {
      url: new URL(url),
      method: init.method ?? 'GET',
      body: init.body,
    };
    for (let count = 0; count < (this.#options.maxHops ?? 30); count += 1) {
      const response = await this.#fetch(request.url, request.method, request.body);
      const location = response.headers.get('location') ?? undefined;
      const hop: Hop = { method: request.method, url: request.url.href, status: response.status, ...(location ? { location } : {}) };
      hops.push(hop);
      const atTestbed = request.url.origin === this.#options.testbedOrigin;
      if (!atTestbed && wasAtTestbed && !callback) callback = hop;
      wasAtTestbed = atTestbed;
      const body = await response.text();
      if (response.status >= 300 && response.status < 400 && location) {
        request = { url: new URL(location, request.url), method: 'GET' };
        continue;
      }
      const next = atTestbed ? this.#answer(body, request.url) : undefined;
      if (!next) return { hops, final: { url: request.url.href, status: response.status, body }, ...(callback ? { callback } : {}) };
      request = { ...next, method: 'POST' };
    }
    throw new Error(`more than ${this.#options.maxHops ?? 30} requests opening ${url}: a redirect loop?`);
  }

  /** A GET without following redirects (the logged-in check). */
  async status(url: string): Promise<number> {
    const response = await this.#fetch(new URL(url), 'GET');
    await response.arrayBuffer();
    return response.status;
  }

  /** The testbed page's form to submit, as a person would, or none. */
  #answer(html: string, at: URL): { url: URL; body: URLSearchParams } | undefined {
    const forms = readForms(html);
    const post = (form: Form, extra: Array<[string, string]>) => ({
      url: new URL(form.action || at.href, at),
      body: new URLSearchParams([...form.fields, ...extra]),
    });
    // The login page: username and password.
    const login = forms.find((form) => form.inputs.some((input) => input.name === 'password'));
    if (login) {
      const { username, password } = this.#options.credentials;
      if (password === undefined) throw new Error(`the testbed shows its login page and the plan gives no password for ${username}`);
      return post({ ...login, fields: login.fields.filter(([name]) => name !== 'username' && name !== 'password') }, [
        ['username', username],
        ['password', password],
      ]);
    }
    // Consent (Allow), sign-out (Yes, sign me out): the submit button that says yes.
    for (const form of forms) {
      const yes = [...form.buttons, ...readButtons(html).filter((button) => form.id && button.form === form.id)].find(
        (button) => (button.name === 'decision' && button.value === 'allow') || (button.name === 'logout' && button.value === 'yes'),
      );
      if (yes) return post(form, [[yes.name!, yes.value!]]);
    }
    // form_post: a POST form of hidden fields only, to another origin (the RP).
    const autoPost = forms.find(
      (form) =>
        form.method === 'post' &&
        form.inputs.every((input) => input.type === 'hidden') &&
        form.inputs.length > 0 &&
        URL.canParse(form.action),
    );
    if (autoPost && new URL(autoPost.action).origin !== this.#options.testbedOrigin) return post(autoPost, []);
    return undefined;
  }

  async #fetch(url: URL, method: string, body?: URLSearchParams): Promise<Response> {
    const headers = new Headers({ accept: 'text/html,application/xhtml+xml,*/*;q=0.8' });
    const cookie = [...this.#cookies]
      .filter(([, each]) => url.pathname.startsWith(each.path))
      .map(([, each]) => `${each.name}=${each.value}`)
      .join('; ');
    if (cookie) headers.set('cookie', cookie);
    if (body) headers.set('content-type', 'application/x-www-form-urlencoded');
    const response = await fetch(url, {
      method,
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(this.#options.requestTimeoutMs),
    });
    for (const line of response.headers.getSetCookie()) this.#store(line);
    return response;
  }

  #store(line: string): void {
    const [pair, ...attributes] = line.split(';').map((part) => part.trim());
    const index = pair.indexOf('=');
    if (index < 1) return;
    const name = pair.slice(0, index);
    const value = pair.slice(index + 1);
    const path = attributes.find((attribute) => /^path=/i.test(attribute))?.slice(5) || '/';
    const expired =
      attributes.some((attribute) => /^expires=/i.test(attribute) && Date.parse(attribute.slice(8)) < Date.now()) ||
      attributes.some((attribute) => /^max-age=(0|-\d+)$/i.test(attribute));
    // Keyed by name and path, as a browser keys one host's cookies (every port of localhost shares them).
    const key = `${name}\u0000${path}`;
    if (expired || value === '') this.#cookies.delete(key);
    else this.#cookies.set(key, { name, value, path });
  }
}

const ATTRIBUTE = /([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*("([^"]*)"|'([^']*)'|([^\s"'>]+))/g;

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of tag.matchAll(ATTRIBUTE)) out[match[1].toLowerCase()] = decodeEntities(match[3] ?? match[4] ?? match[5] ?? '');
  return out;
}

function readButtons(html: string): Form['buttons'] {
  return [...html.matchAll(/<button\b[^>]*>/gi)].map((match) => {
    const attrs = attributes(match[0]);
    return { name: attrs.name, value: attrs.value, form: attrs.form };
  });
}

/** The forms of a page: action, method, id, their fields and submit buttons. */
function readForms(html: string): Form[] {
  return [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)].map((match) => {
    const attrs = attributes(match[1]);
    const inner = match[2];
    const inputs = [...inner.matchAll(/<input\b[^>]*>/gi)]
      .map((input) => attributes(input[0]))
      .filter((input) => input.name)
      .map((input) => ({ name: input.name, type: (input.type ?? 'text').toLowerCase(), value: input.value ?? '' }));
    return {
      action: attrs.action ?? '',
      method: (attrs.method ?? 'get').toLowerCase(),
      id: attrs.id,
      inputs,
      fields: inputs.filter((input) => input.type !== 'submit').map((input) => [input.name, input.value] as [string, string]),
      buttons: readButtons(inner),
    };
  });
}

function decodeEntities(text: string): string {
  return text.replaceAll(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (whole, entity: string) => {
    const lower = entity.toLowerCase();
    if (lower.startsWith('#x')) return String.fromCodePoint(Number.parseInt(lower.slice(2), 16));
    if (lower.startsWith('#')) return String.fromCodePoint(Number(lower.slice(1)));
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[lower] ?? whole;
  });
}
