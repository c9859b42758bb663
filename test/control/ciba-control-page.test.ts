import { describe, expect, it } from '@jest/globals';
import { cibaControlPage } from '../../src/control/ciba-page.ts';
import type { PendingCibaRequest } from '../../src/index.ts';

const EVIL = '<script>alert(1)</script>';

function pending(overrides: Partial<PendingCibaRequest> = {}): PendingCibaRequest {
  return {
    authReqId: 'req-1',
    clientId: 'ciba-client',
    clientName: 'CIBA (poll)',
    sub: 'alice',
    username: 'alice',
    scope: 'openid',
    resources: [],
    bindingMessage: 'Code 42',
    deliveryMode: 'poll',
    requestedAt: 1000,
    expiresAt: 1100,
    ...overrides,
  };
}

describe('the CIBA control page', () => {
  it('is a complete document without scripts or external assets, with a form per decision', () => {
    const html = cibaControlPage({ requests: [pending()], actionBase: '/_testbed/ciba', self: '/_testbed/ciba', now: 1040 });
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|<img|src=|https?:\/\//i);
    expect(html).toContain('<form method="post" action="/_testbed/ciba/req-1/approve">');
    expect(html).toContain('<form method="post" action="/_testbed/ciba/req-1/deny">');
    expect(html).toContain('60 s');
  });

  it('escapes every value a client or fixture controls', () => {
    const html = cibaControlPage({
      requests: [
        pending({
          authReqId: `"${EVIL}`,
          clientId: EVIL,
          clientName: EVIL,
          sub: EVIL,
          username: EVIL,
          scope: EVIL,
          bindingMessage: EVIL,
          resources: [EVIL],
        }),
      ],
      actionBase: '/_testbed/ciba',
      self: '/_testbed/ciba',
      now: 1000,
      notice: EVIL,
    });
    expect(html).not.toContain(EVIL);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain(`/_testbed/ciba/${encodeURIComponent(`"${EVIL}`)}/approve`);
  });

  it('says so when nothing is pending', () => {
    expect(cibaControlPage({ requests: [], actionBase: '/x', self: '/x', now: 0 })).toContain('No pending requests.');
  });
});
