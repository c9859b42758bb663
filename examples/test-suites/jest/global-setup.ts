/**
 * One testbed for the whole jest run, started before any test file (jest's `globalSetup`): the
 * variant for suites that prefer one shared IdP to one per file. Test files run in worker
 * processes and reach it the way a container's clients would, over HTTP: its issuer URL is in
 * OIDC_TESTBED_ISSUER, and they steer it through `<issuer>/_testbed/…`.
 */
import { startTestbed, type Testbed } from 'oidc-testbed';

declare global {
  var oidcTestbed: Testbed | undefined;
}

export default async function globalSetup(): Promise<void> {
  globalThis.oidcTestbed = await startTestbed({ port: 0, apis: false });
  process.env.OIDC_TESTBED_ISSUER = globalThis.oidcTestbed.issuer;
}
