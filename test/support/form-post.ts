/** The OAuth 2.0 Form Post Response Mode as an RP's callback meets it. */

/** The hidden inputs of an auto-submitting form_post page, and where it posts them. */
export function formPostFields(html: string): { action?: string; fields: Record<string, string> } {
  const action = /<form[^>]*\baction="([^"]+)"/.exec(html)?.[1];
  const fields: Record<string, string> = {};
  for (const [, name, value] of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) fields[name] = value;
  return { action, fields };
}

/** What the RP's callback receives: the same fields, POSTed to `redirectUri`. */
export function postedCallback(redirectUri: string, fields: Record<string, string>): Request {
  return new Request(redirectUri, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });
}
