/** The request record's own rules: what it keeps, in which order, and when the details are worked out. */
import { describe, expect, it } from '@jest/globals';
import { RequestRecord } from '../../src/http/request-record.ts';

const entry = (path: string, route?: string) => ({ at: 0, method: 'GET', path, status: 200, ms: 1, ...(route ? { route } : {}) });

describe('RequestRecord', () => {
  it('keeps the last `limit` requests, oldest first, through many wraps of its ring', () => {
    const record = new RequestRecord(3);
    for (let index = 1; index <= 11; index += 1) record.add(entry(`/${index}`, index % 2 ? 'token' : 'jwks'));
    expect(record.list().map((request) => request.seq)).toEqual([9, 10, 11]);
    expect(record.list({ since: 9 }).map((request) => request.path)).toEqual(['/10', '/11']);
    expect(record.list({ route: 'token' }).map((request) => request.seq)).toEqual([9, 11]);
    expect(record.cursor).toBe(11);
    record.clear();
    expect(record.list()).toEqual([]);
    record.add(entry('/12'));
    expect(record.list()).toEqual([expect.objectContaining({ seq: 12, path: '/12' })]);
  });

  it('works out `later` details once, when the entry is listed or a listener wants it', () => {
    const record = new RequestRecord();
    let worked = 0;
    const later = () => {
      worked += 1;
      return { params: { grant_type: 'client_credentials' } };
    };
    record.add(entry('/token', 'token'), later);
    expect(worked).toBe(0);
    expect(record.list()[0].params).toEqual({ grant_type: 'client_credentials' });
    record.list();
    expect(worked).toBe(1);

    const seen: unknown[] = [];
    record.subscribe((request) => seen.push(request.params));
    record.add(entry('/token', 'token'), later);
    expect(seen).toEqual([{ grant_type: 'client_credentials' }]);
    expect(worked).toBe(2);
  });
});
