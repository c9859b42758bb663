/** The examples' HTML: a page with a heading, and values shown escaped. */

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** A complete page; `body` is HTML the caller escaped. */
export function page(heading: string, body = ''): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(heading)}</title></head>
<body><h1>${escapeHtml(heading)}</h1>
${body}</body></html>`;
}

/** A value as JSON in a `<pre>` with an id, for a person to read and a test to parse. */
export function json(id: string, value: unknown): string {
  return `<pre id="${escapeHtml(id)}">${escapeHtml(JSON.stringify(value, null, 2))}</pre>`;
}
