/**
 * The bodies of the testbed's own routes (login and consent forms, the CIBA control routes, the
 * mock APIs): form or JSON, read whole up to a limit, into `ctx.request.body`. Engine routes are
 * oidc-provider's, which reads its own. Written here rather than taken from @koa/bodyparser, which
 * brings co-body, qs and their dependencies: a fifth of the library's import time, for two formats.
 */
import type { Context, Middleware } from 'koa';

declare module 'koa' {
  interface Request {
    /** The parsed body: an object (a form's fields, a JSON object) or a JSON array; `{}` when there is none to parse. */
    body?: unknown;
  }
}

export interface BodyFormats {
  /** Media types read as application/x-www-form-urlencoded (a repeated field becomes an array). */
  form?: readonly string[];
  /** Media types read as JSON; only an object or an array is a body. */
  json?: readonly string[];
  /** Bytes; a longer body is 413. */
  limit: number;
}

export const FORM = ['application/x-www-form-urlencoded'] as const;
export const JSON_TYPES = ['application/json'] as const;

export function parseBody(formats: BodyFormats): Middleware {
  const form = formats.form ?? [];
  const json = formats.json ?? [];
  return async function parseBody(ctx, next) {
    const type = ctx.request.is(...form, ...json);
    if (!type) {
      ctx.request.body = {};
      return next();
    }
    const text = await readText(ctx, formats.limit);
    ctx.request.body = json.includes(type) ? parseJsonBody(text) : formFields(text);
    return next();
  };
}

function clientError(status: number, message: string): Error {
  return Object.assign(new Error(message), { status, expose: true });
}

async function readText(ctx: Context, limit: number): Promise<string> {
  const charset = ctx.request.charset;
  if (charset && !/^utf-?8$/i.test(charset)) throw clientError(415, `unsupported charset "${charset.slice(0, 40)}": send UTF-8`);
  if (Number(ctx.get('Content-Length')) > limit) throw clientError(413, 'request body too large');
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw clientError(413, 'request body too large');
      chunks.push(chunk);
    }
  } catch (error) {
    if ((error as { status?: number }).status) throw error;
    throw clientError(400, 'the request body ended before it was complete');
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

function parseJsonBody(text: string): unknown {
  if (!/^\s*[[{]/.test(text)) throw clientError(400, 'the body must be a JSON object or array');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw clientError(400, 'the body is not valid JSON');
  }
}

function formFields(text: string): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of new URLSearchParams(text)) {
    const seen = fields[name];
    fields[name] = seen === undefined ? value : [...([] as string[]).concat(seen), value];
  }
  return fields;
}
