/**
 * The control endpoints seen from another host: the testbed binds one end of a veth pair and the
 * requests come from a network namespace made for the test, so the TCP peer really is not loopback.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { otherHost } from '../support/netns.ts';
import { useTestbed } from '../support/testbed.ts';

const CONTROL_TOKEN = 'control-token-of-the-lock-test-4f9a2c';
/** Every control endpoint: the CIBA list, the request record, the scenario catalog and a scenario run's verdict. */
const CONTROL_PATHS = ['/_testbed/ciba', '/_testbed/requests', '/_testbed/scenarios', '/scenarios/happy-path/runs/locked/_testbed/verdict'];

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
    return { ...answer, json: JSON.parse(answer.body) as Record<string, unknown> };
  };

  describe('without a control token configured', () => {
    const testbed = useTestbed({ host: host.hostAddress, apis: false });

    it('answers 403 access_denied on every control endpoint, even with X-Forwarded-For naming loopback', async () => {
      for (const path of CONTROL_PATHS) {
        const answer = await call(`${testbed().issuer}${path}`, { headers: { 'x-forwarded-for': '127.0.0.1' } });
        expect(answer.status).toBe(403);
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
      for (const path of CONTROL_PATHS) {
        for (const token of [undefined, 'not-the-control-token']) {
          const answer = await call(`${testbed().issuer}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
          expect(answer.status).toBe(401);
          expect(answer.headers['www-authenticate']).toBe('Bearer realm="oidc-testbed control"');
          expect(answer.json.error).toBe('invalid_token');
        }
      }
    });

    it("lets the token through to the request record and a scenario run's verdict", async () => {
      for (const path of ['/_testbed/requests', '/scenarios/happy-path/runs/locked/_testbed/verdict', '/_testbed/scenarios']) {
        const answer = await call(`${testbed().issuer}${path}`, { headers: { authorization: `Bearer ${CONTROL_TOKEN}` } });
        expect(answer.status).toBe(200);
      }
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
