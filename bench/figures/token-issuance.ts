/** Figure 1: client_credentials token issuance (opaque, JWT RS256, JWT ES256), the testbed beside bare oidc-provider and oauth2-mock-server. */
import { type Entry, fmt } from '../lib/measure.ts';
import { CC_OPAQUE, CC_PROFILE, CC_RS256, clientCredentialsRequest } from '../lib/requests.ts';
import type { FigureContext } from './context.ts';
import { BARE as B, MOCK as M, type Peers, TESTBED as T } from './peers.ts';

export async function tokenIssuance({ bench }: FigureContext, { tb, tbLog, bare, mock }: Peers): Promise<void> {
  if (!tbLog) throw new Error('figure 1 needs the testbed with the default log (startPeers with defaultLog)');
  const es256 = clientCredentialsRequest(CC_PROFILE);
  const logged = { lines: 0, bytes: 0, responses: 0 };
  const withLog: Entry = {
    key: 't-default-log',
    scenario: "JWT default alg (ES256), the CLI's default log (info)",
    system: T,
    run: async () => {
      const before = tbLog.stdoutWritten!();
      const result = await bench.load(tbLog.port, es256);
      await new Promise((r) => setTimeout(r, 100)); // the last responses' lines, still on their way through the pipe
      const after = tbLog.stdoutWritten!();
      logged.lines += after.lines - before.lines;
      logged.bytes += after.bytes - before.bytes;
      logged.responses += result.requests + result.errors;
      return result;
    },
    warm: () => bench.load(tbLog.port, es256, 1),
  };
  // Even in a quick run (which warms nothing): the other processes have served figure 1's earlier rows before their ES256 row.
  await bench.load(tbLog.port, es256, 1);
  const group = await bench.measure(
    1,
    'client_credentials token issuance',
    [
      bench.fixed('t-opaque', 'opaque', T, tb.port, clientCredentialsRequest(CC_OPAQUE)),
      bench.fixed('b-opaque', 'opaque', B, bare.port, clientCredentialsRequest(CC_OPAQUE)),
      bench.fixed('t-rs256', 'JWT RS256', T, tb.port, clientCredentialsRequest(CC_RS256)),
      bench.fixed('b-rs256', 'JWT RS256', B, bare.port, clientCredentialsRequest(CC_RS256)),
      bench.fixed('m-rs256', 'JWT RS256', M, mock.port, clientCredentialsRequest({ scope: 'profile' })),
      bench.fixed('t-default', 'JWT default alg (ES256)', T, tb.port, es256),
      withLog,
      bench.fixed('b-default', 'JWT default alg (ES256)', B, bare.port, es256),
    ],
    [
      { label: 'opaque vs bare', testbed: 't-opaque', peer: 'b-opaque', target: 0.9 },
      { label: 'RS256 vs bare', testbed: 't-rs256', peer: 'b-rs256', target: 0.9 },
      { label: 'ES256 vs bare', testbed: 't-default', peer: 'b-default', target: 0.9 },
      {
        label: "ES256, the CLI's default log (info: a line per request on stdout) vs bare",
        testbed: 't-default-log',
        peer: 'b-default',
        target: 0.9,
      },
      { label: 'RS256 vs oauth2-mock-server', testbed: 't-rs256', peer: 'm-rs256' },
      { label: 'default (ES256) vs oauth2-mock-server (RS256)', testbed: 't-default', peer: 'm-rs256', target: 2.5 },
    ],
    [
      "oauth2-mock-server issues JWTs only (RS256, its default key); the testbed's client-credentials JWTs store nothing (their claims are their record), as the bare peer's",
    ],
  );
  const perResponse = (n: number) => fmt(n / Math.max(1, logged.responses), 2);
  group.notes.push(
    `the testbed's rows run with --log-level warn (no line per request) except "the CLI's default log": the CLI without --log-level (info), its stdout a pipe that this bench process drains on the load core, as a terminal or a container runtime would; it wrote ${perResponse(logged.lines)} lines and ${perResponse(logged.bytes)} bytes per measured response (one line per request expected)`,
  );
}
