/**
 * What an issuer's request record keeps beyond method, path and status: the parameters the client
 * sent as the engine read them, and what the answer issued, decoded. Secrets, codes and tokens are
 * never kept whole: each becomes its first 6 characters and a hash prefix, enough to tell two apart
 * and to match one the RP logged, not enough to use.
 */
import { createHash } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { Context } from 'koa';
import { engineContext, type RecordedRequest, type RequestDetails } from '../http/request-record.ts';
import { looksLikeJwt } from '../jose/vocabulary.ts';

/** Parameters that are secrets or bearer values (RFC 6749, 7636, 7523, 8693, 9126, 9101, CIBA, device flow). */
const SECRET_PARAMETERS = new Set([
  'client_secret',
  'password',
  'code',
  'code_verifier',
  'refresh_token',
  'token',
  'access_token',
  'id_token',
  'id_token_hint',
  'assertion',
  'client_assertion',
  'subject_token',
  'actor_token',
  'request',
  'logout_token',
  'device_code',
  'user_code',
  'auth_req_id',
  'login_hint_token',
  'response',
]);

/** Token-endpoint answer members that are tokens: JWTs decoded to their claims, others stubbed. */
const ISSUED_TOKENS = ['access_token', 'id_token', 'refresh_token', 'issued_token_type'] as const;

export function stub(value: string): string {
  return `${value.slice(0, 6)}…#${createHash('sha256').update(value).digest('base64url').slice(0, 8)}`;
}

function redacted(params: Record<string, unknown>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    const values = (Array.isArray(value) ? value : [value]).map(String);
    const shown = SECRET_PARAMETERS.has(name) ? values.map(stub) : values;
    out[name] = shown.length === 1 ? shown[0] : shown;
  }
  return out;
}

function issuesTokens(body: unknown): boolean {
  if (!body || typeof body !== 'object' || Buffer.isBuffer(body)) return false;
  const answer = body as Record<string, unknown>;
  return ISSUED_TOKENS.some((member) => typeof answer[member] === 'string');
}

function issuedBy(body: unknown): Record<string, unknown> | undefined {
  if (!body || typeof body !== 'object' || Buffer.isBuffer(body)) return undefined;
  const answer = body as Record<string, unknown>;
  const issued: Record<string, unknown> = {};
  for (const member of ISSUED_TOKENS) {
    const value = answer[member];
    if (typeof value !== 'string') continue;
    if (member === 'issued_token_type') {
      issued[member] = value;
    } else if (looksLikeJwt(value)) {
      try {
        issued[member] = { header: decodeProtectedHeader(value), claims: decodeJwt(value), stub: stub(value) };
      } catch {
        issued[member] = { stub: stub(value) };
      }
    } else {
      issued[member] = { stub: stub(value) };
    }
  }
  return Object.keys(issued).length > 0 ? issued : undefined;
}

/** The engine's parameters and the token-endpoint answer's tokens, for an issuer's record (redacted when read). */
export const issuerRequestDetails: RequestDetails = (ctx: Context) => {
  const sent = engineContext(ctx)?.params;
  // Kept only when it issued a token: the record must not hold every discovery document it served.
  const answer = ctx.status === 200 && issuesTokens(ctx.body) ? ctx.body : undefined;
  if (!sent && !answer) return undefined;
  return {
    later: () => {
      const details: Pick<RecordedRequest, 'params' | 'issued'> = {};
      if (sent) {
        const params = redacted(sent);
        if (Object.keys(params).length > 0) details.params = params;
      }
      const issued = issuedBy(answer);
      if (issued) details.issued = issued;
      return details;
    },
  };
};
