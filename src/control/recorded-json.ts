/**
 * How the record's entries are shown over HTTP (`GET <issuer>/_testbed/requests`, its event
 * stream, the console): the time as an ISO date and `endpoint` (the engine route, or the path
 * where there is none); and the checks of the `since` and `endpoint` query parameters.
 */
import type { RecordedRequest } from '../http/request-record.ts';

export type ShownRequest = Omit<RecordedRequest, 'at' | 'route'> & { at: string; endpoint: string };

export function shownRequest({ at, route, ...request }: RecordedRequest): ShownRequest {
  return { ...request, at: new Date(at).toISOString(), endpoint: route ?? request.path };
}

/** A `since` cursor: a whole number, as the record's `seq`. */
export const CURSOR = /^\d{1,15}$/;
/** An `endpoint` filter: an engine route name (token, userinfo, …) or profile-api / directory-api. */
export const ENDPOINT = /^[a-z_-]{1,40}$/;

export const BAD_CURSOR = 'since must be a cursor from an earlier answer (a whole number)';
export const BAD_ENDPOINT = 'endpoint must be an engine route name (token, userinfo, authorization, …) or profile-api / directory-api';
