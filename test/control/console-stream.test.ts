/**
 * `<issuer>/_testbed/requests/stream`: the request record as Server-Sent Events — each request as
 * it completes, resumed after `Last-Event-ID` or `since`, a heartbeat on a quiet stream, and no
 * listener left on the record once the client has gone.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import Koa from 'koa';
import { requestStream } from '../../src/control/request-stream.ts';
import { RequestRecord } from '../../src/http/request-record.ts';
import { userTokens } from '../support/resource-servers.ts';
import { useTestbed } from '../support/testbed.ts';
import { waitFor } from '../support/wait-for.ts';

interface StreamEvent {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
  retry?: string;
}

/** An open event stream: what it has delivered so far, parsed as an EventSource would (§9.2.6). */
interface OpenStream {
  status: number;
  headers: Headers;
  events: StreamEvent[];
  /** Resolves with the first delivered event `matches` accepts. */
  next(matches: (event: StreamEvent) => boolean): Promise<StreamEvent>;
  close(): void;
}

async function openStream(url: string, headers: Record<string, string> = {}): Promise<OpenStream> {
  const abort = new AbortController();
  const answer = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const events: StreamEvent[] = [];
  const waiting = new Set<() => void>();
  if (answer.body && answer.headers.get('content-type')?.startsWith('text/event-stream')) {
    void (async () => {
      const decoder = new TextDecoder();
      let buffered = '';
      try {
        for await (const chunk of answer.body as AsyncIterable<Uint8Array>) {
          buffered += decoder.decode(chunk, { stream: true });
          let end = buffered.indexOf('\n\n');
          while (end >= 0) {
            const block = buffered.slice(0, end);
            buffered = buffered.slice(end + 2);
            for (const event of parseBlock(block)) events.push(event);
            for (const wake of waiting) wake();
            end = buffered.indexOf('\n\n');
          }
        }
      } catch {
        // aborted by close()
      }
    })();
  }
  return {
    status: answer.status,
    headers: answer.headers,
    events,
    next: (matches) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching event; got ${JSON.stringify(events)}`)), 5_000);
        const check = () => {
          const found = events.find(matches);
          if (!found) return;
          clearTimeout(timer);
          waiting.delete(check);
          resolve(found);
        };
        waiting.add(check);
        check();
      }),
    close: () => abort.abort(),
  };
}

function parseBlock(block: string): StreamEvent[] {
  const event: StreamEvent = {};
  const comments: StreamEvent[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) comments.push({ comment: line.slice(1).trim() });
    else {
      const colon = line.indexOf(':');
      const field = line.slice(0, colon) as 'id' | 'event' | 'data' | 'retry';
      event[field] = line.slice(colon + 1).replace(/^ /, '');
    }
  }
  return Object.keys(event).length > 0 ? [...comments, event] : comments;
}

const requestEvents = (stream: OpenStream) =>
  stream.events.filter((event) => event.event === 'request').map((event) => JSON.parse(event.data!) as Record<string, unknown>);

/** Counts the record's live listeners by wrapping its `subscribe`. */
function countListeners(record: RequestRecord): () => number {
  let active = 0;
  const subscribe = record.subscribe.bind(record);
  record.subscribe = (listener) => {
    active += 1;
    const stop = subscribe(listener);
    let stopped = false;
    return () => {
      if (!stopped) active -= 1;
      stopped = true;
      return stop();
    };
  };
  return () => active;
}

describe('the request record as Server-Sent Events', () => {
  const testbed = useTestbed({ apis: false });
  const streamUrl = (query = '') => `${testbed().issuer}/_testbed/requests/stream${query}`;
  const opened: OpenStream[] = [];
  const open = async (query = '', headers: Record<string, string> = {}) => {
    const stream = await openStream(streamUrl(query), headers);
    opened.push(stream);
    return stream;
  };
  afterEach(() => {
    for (const stream of opened.splice(0)) stream.close();
  });

  it('sends each request as it completes: id = seq, event request, the entry as GET …/requests shows it', async () => {
    const stream = await open();
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream(;|$)/);
    expect(stream.headers.get('cache-control')).toBe('no-store');
    await stream.next((event) => event.retry !== undefined);

    const { tokens } = await userTokens(testbed(), 'http://localhost:9401/', 'profile');
    const token = await stream.next((event) => event.event === 'request' && JSON.parse(event.data!).endpoint === 'token');
    const shown = JSON.parse(token.data!);
    expect(token.id).toBe(String(shown.seq));
    expect(shown).toMatchObject({ method: 'POST', status: 200, client_id: 'web-app', grant_type: 'authorization_code' });
    expect(shown.issued.id_token.claims).toMatchObject({ sub: 'alice', aud: 'web-app' });
    expect(shown.at).toMatch(/^\d{4}-\d\d-\d\dT/);
    // The same entry as the JSON listing, and no secret or whole token in the stream.
    const listed = (await (await fetch(`${testbed().issuer}/_testbed/requests?since=${shown.seq - 1}`)).json()) as {
      requests: unknown[];
    };
    expect(listed.requests[0]).toEqual(shown);
    const text = JSON.stringify(stream.events);
    for (const secret of ['web-app-secret', 'alice-password', tokens.access_token, tokens.id_token!]) expect(text).not.toContain(secret);
    // The stream's own request, like every control request, is not in the record.
    expect(requestEvents(stream).some((request) => String(request.path).includes('/_testbed'))).toBe(false);
  });

  it('Last-Event-ID resumes after that entry (as a reconnecting EventSource does); since= does the same; endpoint= filters', async () => {
    const cursor = testbed().main.requests.cursor;
    await fetch(testbed().urls.discovery);
    await fetch(testbed().urls.jwks);

    const resumed = await open('', { 'last-event-id': String(cursor) });
    await resumed.next((event) => event.event === 'request' && JSON.parse(event.data!).endpoint === 'jwks');
    expect(requestEvents(resumed).map((request) => request.endpoint)).toEqual(['discovery', 'jwks']);
    expect(resumed.events.filter((event) => event.id).map((event) => Number(event.id))).toEqual([cursor + 1, cursor + 2]);

    const since = await open(`?since=${cursor + 1}`);
    await since.next((event) => event.event === 'request');
    expect(requestEvents(since).map((request) => request.endpoint)).toEqual(['jwks']);

    const onlyJwks = await open(`?since=${cursor}&endpoint=jwks`);
    await onlyJwks.next((event) => event.event === 'request');
    await fetch(testbed().urls.discovery);
    await fetch(testbed().urls.jwks);
    await onlyJwks.next((event) => event.id === String(cursor + 4));
    expect(requestEvents(onlyJwks).map((request) => request.seq)).toEqual([cursor + 2, cursor + 4]);

    // Without either, only what comes next.
    const fresh = await open();
    await fresh.next((event) => event.retry !== undefined);
    await fetch(testbed().urls.jwks);
    await fresh.next((event) => event.event === 'request');
    expect(requestEvents(fresh).map((request) => request.seq)).toEqual([cursor + 5]);
  });

  it('answers 400 naming the parameter for a bad Last-Event-ID, since or endpoint', async () => {
    for (const [query, headers, named] of [
      ['', { 'last-event-id': 'abc' }, 'Last-Event-ID'],
      ['?since=-1', {}, 'since'],
      ['?endpoint=../x', {}, 'endpoint'],
    ] as const) {
      const answer = await fetch(streamUrl(query), { headers });
      expect(answer.status).toBe(400);
      expect(await answer.json()).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining(named) });
    }
  });

  it('stops listening to the record when the client disconnects', async () => {
    const listeners = countListeners(testbed().main.requests);
    const streams = await Promise.all([open(), open(), open()]);
    await Promise.all(streams.map((stream) => stream.next((event) => event.retry !== undefined)));
    expect(listeners()).toBe(3);
    for (const stream of streams) stream.close();
    await waitFor('the streams to let go of the record', async () => (listeners() === 0 ? true : undefined), 5_000, 20);
    // The record goes on without them.
    await fetch(testbed().urls.jwks);
    expect(listeners()).toBe(0);
  });
});

describe('the stream on a quiet record', () => {
  const servers: Array<ReturnType<typeof createServer>> = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('sends a heartbeat comment every heartbeatMs, and entries added later', async () => {
    const record = new RequestRecord();
    const app = new Koa();
    app.silent = true; // a client going away ends the pipe with "Premature close", as it should
    app.use(requestStream(record, { heartbeatMs: 40 }));
    const server = createServer(app.callback()).listen(0, '127.0.0.1');
    servers.push(server);
    await once(server, 'listening');
    const stream = await openStream(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    try {
      await stream.next((event) => event.comment === 'heartbeat');
      await waitFor(
        'three heartbeats',
        async () => (stream.events.filter((event) => event.comment === 'heartbeat').length >= 3 ? true : undefined),
        2_000,
        20,
      );
      record.add({ at: Date.parse('2026-01-02T03:04:05Z'), method: 'GET', path: '/jwks', status: 200, ms: 1, route: 'jwks' });
      const event = await stream.next((candidate) => candidate.event === 'request');
      expect(event.id).toBe('1');
      expect(JSON.parse(event.data!)).toEqual({
        seq: 1,
        at: '2026-01-02T03:04:05.000Z',
        method: 'GET',
        path: '/jwks',
        status: 200,
        ms: 1,
        endpoint: 'jwks',
      });
    } finally {
      stream.close();
    }
  });
});
