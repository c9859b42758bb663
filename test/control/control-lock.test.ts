/**
 * The control endpoints seen from another host: the testbed binds one end of a veth pair and the
 * requests come from a network namespace made for the test, so the TCP peer really is not loopback.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { otherHost } from '../support/netns.ts';
import { useTestbed } from '../support/testbed.ts';

const CONTROL_TOKEN = 'control-token-of-the-lock-test-4f9a2c';
/**
 * Every control endpoint, by method: the console, the CIBA list, the request record and its stream,
 * users, clients, keys, faults, clock, sessions, direct tokens, reset, the scenario catalog and a
 * scenario run's verdict; on the main issuer, a further one (/fapi2) and a scenario run.
 */
const CONTROL_ENDPOINTS: ReadonlyArray<readonly [method: string, path: string]> = [
  ['GET', '/_testbed/'],
  ['GET', '/_testbed/console/requests?since=0'],
  ['GET', '/_testbed/console/glance'],
  ['GET', '/_testbed/ciba'],
  ['GET', '/_testbed/requests'],
  ['GET', '/_testbed/requests/stream'],
  ['DELETE', '/_testbed/requests'],
  ['GET', '/_testbed/users'],
  ['GET', '/_testbed/users/alice'],
  ['PUT', '/_testbed/users/mallory'],
  ['PATCH', '/_testbed/users/alice'],
  ['DELETE', '/_testbed/users/alice'],
  ['GET', '/_testbed/clients'],
  ['GET', '/_testbed/clients/web-app'],
  ['PUT', '/_testbed/clients/planted-client'],
  ['DELETE', '/_testbed/clients/planted-client'],
  ['GET', '/_testbed/keys'],
  ['POST', '/_testbed/keys/rotate'],
  ['GET', '/_testbed/faults'],
  ['POST', '/_testbed/faults'],
  ['DELETE', '/_testbed/faults'],
  ['DELETE', '/_testbed/faults/some-fault'],
  ['GET', '/_testbed/clock'],
  ['PUT', '/_testbed/clock'],
  ['GET', '/_testbed/sessions'],
  ['DELETE', '/_testbed/sessions/some-session'],
  ['POST', '/_testbed/tokens'],
  ['POST', '/_testbed/reset'],
  ['GET', '/_testbed/scenarios'],
  ['POST', '/fapi2/_testbed/reset'],
  ['POST', '/fapi2/_testbed/tokens'],
  ['POST', '/scenarios/happy-path/_testbed/faults'],
  ['GET', '/scenarios/happy-path/runs/locked/_testbed/verdict'],
];

const network = otherHost();
const fromElsewhere = typeof network === 'string' ? describe.skip : describe;
if (typeof network === 'string') console.warn(`control-lock tests skipped: ${network}`);
afterAll(() => {
  if (typeof network !== 'string') network.close();
});

fromElsewhere('control endpoints from a client on another host', () => {
  const host = network as Exclude<typeof network, string>;
  const call = async (url: string, init?: { method?: string; headers?: Record<string, string> }) => {
    const answer = await host.fetch(url, { ...init, headers: { accept: 'application/json', ...init?.headers } });
    return { ...answer, json: (answer.body ? JSON.parse(answer.body) : {}) as Record<string, unknown> };
  };

  describe('without a control token configured', () => {
    const testbed = useTestbed({ host: host.hostAddress, apis: false });

    it('answers 403 access_denied on every control endpoint, even with X-Forwarded-For naming loopback', async () => {
      for (const [method, path] of CONTROL_ENDPOINTS) {
        const answer = await call(`${testbed().issuer}${path}`, { method, headers: { 'x-forwarded-for': '127.0.0.1' } });
        expect([method, path, answer.status]).toEqual([method, path, 403]);
        expect(answer.json).toEqual({
          error: 'access_denied',
          error_description:
            'control endpoints answer loopback clients only; start the testbed with --control-token to use them from elsewhere',
        });
      }
    });

    it('serves the rest of the IdP to that host as usual', async () => {
      const answer = await call(`${testbed().issuer}/.well-known/openid-configuration`);
      expect(answer.status).toBe(200);
      expect(answer.json.issuer).toBe(testbed().issuer);
    });
  });

  describe('with a control token configured', () => {
    const testbed = useTestbed({ host: host.hostAddress, apis: false, controlToken: CONTROL_TOKEN });
    const control = (path: string, token?: string, method = 'GET') =>
      call(`${testbed().issuer}/_testbed${path}`, {
        method,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });

    it('answers 401 invalid_token on every control endpoint without the token or with a wrong one', async () => {
      for (const [method, path] of CONTROL_ENDPOINTS) {
        for (const token of [undefined, 'not-the-control-token']) {
          const answer = await call(`${testbed().issuer}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
          expect([method, path, answer.status]).toEqual([method, path, 401]);
          expect(answer.headers['www-authenticate']).toBe('Bearer realm="oidc-testbed control"');
          expect(answer.json.error).toBe('invalid_token');
        }
      }
    });

    it("lets the token through to the record, users, clients, keys, faults, clock, sessions, reset and a scenario run's verdict", async () => {
      const reads = ['requests', 'users', 'clients', 'keys', 'faults', 'clock', 'sessions', 'scenarios'].map((name) => `/_testbed/${name}`);
      for (const path of [...reads, '/fapi2/_testbed/keys', '/scenarios/happy-path/runs/locked/_testbed/verdict']) {
        const answer = await call(`${testbed().issuer}${path}`, { headers: { authorization: `Bearer ${CONTROL_TOKEN}` } });
        expect([path, answer.status]).toEqual([path, 200]);
      }
      const reset = await call(`${testbed().issuer}/_testbed/reset`, {
        method: 'POST',
        headers: { authorization: `Bearer ${CONTROL_TOKEN}` },
      });
      expect(reset.status).toBe(204);
    });

    it('lets the token through: the pending list, and a decision on an unknown request (404)', async () => {
      const listed = await control('/ciba', CONTROL_TOKEN);
      expect(listed.status).toBe(200);
      expect(listed.json.pending).toEqual([]);
      const approved = await control('/ciba/no-such-request/approve', CONTROL_TOKEN, 'POST');
      expect(approved.status).toBe(404);
      expect(approved.json.error).toBe('not_found');
    });
  });
});
