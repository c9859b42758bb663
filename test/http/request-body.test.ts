import { type AddressInfo, connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Koa from 'koa';
import { pino } from 'pino';
import { answerErrors, oauthErrorAnswers } from '../../src/http/error-answers.ts';
import { listenHttp, type RunningServer } from '../../src/http/http-server.ts';
import { FORM, JSON_TYPES, parseBody } from '../../src/http/request-body.ts';

let server: RunningServer;
let url: string;
beforeAll(async () => {
  const app = new Koa();
  app.silent = true;
  app.use(answerErrors(oauthErrorAnswers(pino({ level: 'silent' }))));
  app.use(parseBody({ form: FORM, json: [...JSON_TYPES, 'application/merge-patch+json'], limit: 64 }));
  app.use((ctx) => {
    ctx.body = { parsed: ctx.request.body, proto: Object.getPrototypeOf(ctx.request.body) === null };
  });
  server = await listenHttp(0, '127.0.0.1', app.callback());
  url = `http://127.0.0.1:${server.port}/`;
});
afterAll(() => server.close());

const post = async (type: string | undefined, body: string) => {
  const response = await fetch(url, { method: 'POST', headers: type ? { 'content-type': type } : {}, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

describe('parseBody', () => {
  it('reads a form, a repeated field as an array, with no prototype to pollute', async () => {
    expect(await post('application/x-www-form-urlencoded', 'a=1&b=x%20y&a=2&__proto__=z')).toEqual({
      status: 200,
      body: { parsed: JSON.parse('{"a":["1","2"],"b":"x y","__proto__":"z"}') as unknown, proto: true },
    });
  });

  it('reads a JSON object or array, in each JSON media type', async () => {
    expect(await post('application/json; charset=utf-8', '{"a":[1,{"b":null}]}')).toMatchObject({
      status: 200,
      body: { parsed: { a: [1, { b: null }] } },
    });
    expect(await post('application/merge-patch+json', '[1]')).toMatchObject({ status: 200, body: { parsed: [1] } });
  });

  it('leaves other media types unread: the body is {}', async () => {
    expect(await post('text/plain', 'hello')).toMatchObject({ status: 200, body: { parsed: {} } });
    expect(await post(undefined, '')).toMatchObject({ status: 200, body: { parsed: {} } });
  });

  it('answers a client mistake with its status and a description', async () => {
    expect(await post('application/json', '{"a":')).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: 'the body is not valid JSON' },
    });
    expect(await post('application/json', '"text"')).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: 'the body must be a JSON object or array' },
    });
    expect(await post('application/json', `{"a":"${'x'.repeat(100)}"}`)).toEqual({
      status: 413,
      body: { error: 'invalid_request', error_description: 'request body too large' },
    });
    expect(await post('application/x-www-form-urlencoded; charset=latin1', 'a=b')).toEqual({
      status: 415,
      body: { error: 'invalid_request', error_description: 'unsupported charset "latin1": send UTF-8' },
    });
  });

  it('a body longer than its Content-Length says, sent in chunks, is 413 too', async () => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new Blob([`{"a":"${'x'.repeat(100)}"}`]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
  });

  it('a body cut off by the client leaves the server serving', async () => {
    const socket = connect((server.server.address() as AddressInfo).port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{"a":');
    await new Promise((resolve) => setTimeout(resolve, 50));
    socket.destroy();
    // The server is still serving.
    expect((await post('application/json', '{}')).status).toBe(200);
  });
});
