/**
 * A minimal user agent for headless flows: a cookie jar over fetch with manual redirects, so a test
 * can walk /auth → /interaction → /auth/:uid → redirect_uri and stop at the RP's callback.
 */
export class UserAgent {
  readonly #cookies = new Map<string, { value: string; path: string }>();

  async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const target = new URL(url);
    const headers = new Headers(init.headers);
    const cookie = this.#cookieHeader(target);
    if (cookie) headers.set('cookie', cookie);
    const response = await fetch(target, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) this.#store(line);
    return response;
  }

  /**
   * Follows redirects (and form_post auto-submit pages are NOT followed) until a response that is
   * not a redirect, or a Location that starts with `stopAt`. Returns the last URL and response.
   */
  async follow(url: string | URL, stopAt?: string, init: RequestInit = {}): Promise<{ url: URL; response?: Response }> {
    let current = new URL(url);
    let request = init;
    for (let hops = 0; hops < 20; hops += 1) {
      if (stopAt && current.href.startsWith(stopAt)) return { url: current };
      const response = await this.fetch(current, request);
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) return { url: current, response };
      await response.arrayBuffer();
      current = new URL(location, current);
      request = {};
    }
    throw new Error(`too many redirects from ${url}`);
  }

  /** The value of a cookie the agent holds, e.g. oidc-provider's `_session`. */
  cookie(name: string): string | undefined {
    return this.#cookies.get(name)?.value;
  }

  #cookieHeader(url: URL): string {
    return [...this.#cookies]
      .filter(([, cookie]) => url.pathname.startsWith(cookie.path))
      .map(([name, cookie]) => `${name}=${cookie.value}`)
      .join('; ');
  }

  #store(line: string): void {
    const [pair, ...attributes] = line.split(';').map((part) => part.trim());
    const index = pair.indexOf('=');
    const name = pair.slice(0, index);
    const value = pair.slice(index + 1);
    const path = attributes.find((attribute) => attribute.toLowerCase().startsWith('path='))?.slice(5) ?? '/';
    const expired =
      attributes.some((attribute) => /^expires=/i.test(attribute) && Date.parse(attribute.slice(8)) < Date.now()) ||
      attributes.some((attribute) => /^max-age=0$/i.test(attribute));
    if (expired || value === '') this.#cookies.delete(name);
    else this.#cookies.set(name, { value, path });
  }
}

/** Extracts a hidden input's value from an HTML page (xsrf tokens of oidc-provider forms). */
export function hiddenInput(html: string, name: string): string {
  const match = new RegExp(`name="${name}"\\s+value="([^"]*)"|value="([^"]*)"\\s+name="${name}"`).exec(html);
  if (!match) throw new Error(`no hidden input ${name} in page`);
  return match[1] ?? match[2];
}
