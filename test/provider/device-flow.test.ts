import { describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import { hiddenInput, UserAgent } from '../support/agent.ts';
import { postForm } from '../support/http.ts';
import { ALICE, answerDeviceConfirmation, formAction, postPageForm, walkInteractions } from '../support/interactions.ts';
import { client, discover } from '../support/openid.ts';
import { useTestbed } from '../support/testbed.ts';

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const DIRECTORY_API = 'http://localhost:9402/openidm/';

describe('device authorization grant (RFC 8628), approved through the pages over HTTP', () => {
  const testbed = useTestbed();
  const deviceClient = () => discover(testbed(), 'device-client', undefined, { token_endpoint_auth_method: 'none' }, client.None());
  const poll = (deviceCode: string) =>
    postForm(testbed().urls.token, { grant_type: DEVICE_CODE_GRANT, device_code: deviceCode, client_id: 'device-client' });

  /** A person opens the verification URI, types the user code, confirms, signs in and consents. */
  const approve = async (verificationUri: string, userCode: string) => {
    const agent = new UserAgent();
    const entry = await agent.fetch(verificationUri);
    expect(entry.status).toBe(200);
    const entryPage = await entry.text();
    const codeInput = /<input[^>]*\bname="([^"]*code[^"]*)"/.exec(entryPage);
    expect(codeInput).not.toBeNull();

    const confirm = await postPageForm(
      agent,
      formAction(entryPage, new URL(verificationUri)),
      { xsrf: hiddenInput(entryPage, 'xsrf'), [codeInput![1]]: userCode },
      'text/html',
    );
    expect(confirm.status).toBe(200);
    const confirmPage = await confirm.text();
    expect(confirmPage).toContain(userCode);
    expect(confirmPage).toContain('Living-room TV');

    const confirmed = await answerDeviceConfirmation(agent, confirmPage, new URL(verificationUri), 'confirm');
    expect(confirmed.status).toBe(303);
    const interaction = new URL(confirmed.headers.get('location')!, verificationUri);
    expect(interaction.pathname).toMatch(/^\/interaction\//);

    return walkInteractions(agent, interaction, ALICE);
  };

  it('answers authorization_pending, then tokens after approval, then invalid_grant on reuse', async () => {
    const config = await deviceClient();
    const device = await client.initiateDeviceAuthorization(config, { scope: 'openid profile offline_access' });
    expect(device).toMatchObject({
      device_code: expect.any(String),
      user_code: expect.stringMatching(/^[A-Z]{4}-[A-Z]{4}$/),
      verification_uri: testbed().urls.deviceVerification,
      verification_uri_complete: `${testbed().urls.deviceVerification}?user_code=${device.user_code}`,
      expires_in: expect.any(Number),
    });

    const pending = await poll(device.device_code);
    expect(pending.status).toBe(400);
    expect(pending.body.error).toBe('authorization_pending');

    const done = await approve(device.verification_uri, device.user_code);
    expect(done.steps).toEqual(['login', 'consent']); // device-client is not first-party
    expect(done.status).toBe(200);
    expect(done.html).toContain('Device connected');

    // One poll, no waiting: the approval is already done (pollDeviceAuthorizationGrant waits `interval` first).
    const tokens = await client.genericGrantRequest(config, DEVICE_CODE_GRANT, { device_code: device.device_code });
    expect(tokens.claims()).toMatchObject({ iss: testbed().issuer, aud: 'device-client', sub: 'alice' });
    expect(tokens.refresh_token).toEqual(expect.any(String));
    expect(await client.fetchUserInfo(config, tokens.access_token, 'alice')).toMatchObject({ name: 'Alice Example' });

    const reused = await poll(device.device_code);
    expect(reused.status).toBe(400);
    expect(reused.body.error).toBe('invalid_grant');
  });

  it('openid-client polls until the person approves; a resource on the poll gets a token for it', async () => {
    const config = await deviceClient();
    const device = await client.initiateDeviceAuthorization(config, { scope: 'openid fr:idm:*' });
    // Poll every second instead of RFC 8628's default 5 s (no `interval` is sent) to keep the suite fast.
    const polling = client.pollDeviceAuthorizationGrant(config, { ...device, interval: 1 }, { resource: DIRECTORY_API });
    const done = await approve(device.verification_uri_complete!, device.user_code);
    expect(done.status).toBe(200);
    const tokens = await polling;
    expect(decodeJwt(tokens.access_token)).toMatchObject({
      aud: DIRECTORY_API,
      scope: 'fr:idm:*',
      sub: 'alice',
      client_id: 'device-client',
    });
  });

  it('answers access_denied when the person cancels on the confirmation page', async () => {
    const config = await deviceClient();
    const device = await client.initiateDeviceAuthorization(config, { scope: 'openid' });
    const agent = new UserAgent();
    const entryUrl = new URL(device.verification_uri_complete!);
    const confirmPage = await (await agent.fetch(entryUrl)).text();
    const aborted = await answerDeviceConfirmation(agent, confirmPage, entryUrl, 'abort');
    expect(aborted.status).toBe(200);
    const denied = await poll(device.device_code);
    expect(denied.status).toBe(400);
    expect(denied.body.error).toBe('access_denied');
  });

  it('shows an error on the entry page for an unknown user code', async () => {
    const agent = new UserAgent();
    const entryUrl = new URL(testbed().urls.deviceVerification);
    const entryPage = await (await agent.fetch(entryUrl)).text();
    const answer = await postPageForm(
      agent,
      formAction(entryPage, entryUrl),
      { xsrf: hiddenInput(entryPage, 'xsrf'), user_code: 'BCDF-GHJK' },
      'text/html',
    );
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain('That code is not valid');
  });

  it('shows the code form again, working, when the form is posted without a session (e.g. after a restart)', async () => {
    const config = await deviceClient();
    const device = await client.initiateDeviceAuthorization(config, { scope: 'openid' });
    const agent = new UserAgent(); // no cookies: the session the page was rendered in is gone
    const stale = await postPageForm(
      agent,
      testbed().urls.deviceVerification,
      { xsrf: 'from-a-page-of-another-session', user_code: device.user_code },
      'text/html',
    );
    expect(stale.status).toBe(400);
    const page = await stale.text();
    expect(page).toContain('The code could not be checked');

    const retried = await postPageForm(
      agent,
      formAction(page, new URL(testbed().urls.deviceVerification)),
      { xsrf: hiddenInput(page, 'xsrf'), user_code: device.user_code },
      'text/html',
    );
    expect(retried.status).toBe(200);
    expect(await retried.text()).toContain('Confirm device');
  });

  it('refuses an unknown device code (invalid_grant)', async () => {
    const answer = await poll('not-a-device-code');
    expect(answer.status).toBe(400);
    expect(answer.body.error).toBe('invalid_grant');
  });
});
