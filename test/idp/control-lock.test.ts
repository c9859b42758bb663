/**
 * The control endpoints over a real non-loopback connection: the testbed listens on this machine's
 * network address and the test connects to it, so the TCP peer is not a loopback address.
 */
import { networkInterfaces } from 'node:os';
import { describe, expect, it } from '@jest/globals';
import { readJson } from '../support/http.ts';
import { client, discover } from '../support/openid.ts';
import { useTestbed } from '../support/testbed.ts';

const CONTROL_TOKEN = 'control-token-of-the-lock-test-4f9a2c';
const address = Object.values(networkInterfaces()).flat().find((entry) => entry && !entry.internal && entry.family === 'IPv4')?.address;
// A machine without a network interface besides loopback cannot make a non-loopback peer.
const overTheNetwork = address ? describe : describe.skip;

overTheNetwork('control endpoints from a client not on loopback', () => {
  describe('without a control token configured', () => {
    const testbed = useTestbed({ host: address, apis: false });

    it('answers 403 access_denied, even with X-Forwarded-For naming loopback', async () => {
      const answer = await readJson(await fetch(`${testbed().issuer}/_testbed/ciba`, { headers: { accept: 'application/json', 'x-forwarded-for': '127.0.0.1' } }));
      expect(answer.status).toBe(403);
      expect(answer.body).toEqual({
        error: 'access_denied',
        error_description: 'control endpoints answer loopback clients only; start the testbed with --control-token to use them from elsewhere',
      });
    });
  });

  describe('with a control token configured', () => {
    const testbed = useTestbed({ host: address, apis: false, controlToken: CONTROL_TOKEN });
    const control = (path: string, init: RequestInit & { token?: string } = {}) => fetch(`${testbed().issuer}/_testbed${path}`, {
      ...init, headers: { accept: 'application/json', ...(init.token ? { authorization: `Bearer ${init.token}` } : {}) },
    });

    it('answers 401 invalid_token without the token or with a wrong one', async () => {
      for (const token of [undefined, 'not-the-control-token']) {
        const answer = await readJson(await control('/ciba', { token }));
        expect(answer.status).toBe(401);
        expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="oidc-testbed control"');
        expect(answer.body.error).toBe('invalid_token');
      }
    });

    it('lists and approves with the token; the client then gets tokens', async () => {
      const config = await discover(testbed(), 'ciba-client', 'ciba-client-secret');
      const started = await client.initiateBackchannelAuthentication(config, { scope: 'openid', login_hint: 'bob' });
      const listed = await readJson<{ pending: Array<{ auth_req_id: string }> }>(await control('/ciba', { token: CONTROL_TOKEN }));
      expect(listed.status).toBe(200);
      expect(listed.body.pending.map((request) => request.auth_req_id)).toContain(started.auth_req_id);
      const approved = await readJson(await control(`/ciba/${started.auth_req_id}/approve`, { method: 'POST', token: CONTROL_TOKEN }));
      expect(approved).toMatchObject({ status: 200, body: { status: 'approved' } });
      const tokens = await client.pollBackchannelAuthenticationGrant(config, { ...started, interval: 0 });
      expect(tokens.claims()?.sub).toBe('bob');
    });
  });
});
