/**
 * A client on another host, for tests whose server must see a peer that is not loopback: a network
 * namespace made by the test, joined to this one by a veth pair (10.231.N.0/30). The server binds
 * `hostAddress`; `fetchFromOtherHost()` runs a fetch inside the namespace, so its connection comes
 * from `peerAddress`. Needs root and iproute2; on CI their absence fails the test, elsewhere the
 * caller may skip.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface OtherHost {
  /** This side of the link: bind the server here. */
  hostAddress: string;
  /** The namespace's address: the server sees connections from it. */
  peerAddress: string;
  /** A fetch made inside the namespace; the body is read as text. */
  fetch(
    url: string,
    init?: { method?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; headers: Record<string, string>; body: string }>;
  close(): void;
}

/** Makes the namespace, or says why it cannot (throws on CI). */
export function otherHost(): OtherHost | string {
  const id = process.pid % 250;
  const namespace = `oidctb-${process.pid}`;
  const [hostLink, peerLink] = [`otb${process.pid}a`.slice(0, 15), `otb${process.pid}b`.slice(0, 15)];
  const hostAddress = `10.231.${id}.1`;
  const peerAddress = `10.231.${id}.2`;
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
  try {
    ip('netns', 'add', namespace);
    ip('link', 'add', hostLink, 'type', 'veth', 'peer', 'name', peerLink);
    ip('link', 'set', peerLink, 'netns', namespace);
    ip('addr', 'add', `${hostAddress}/30`, 'dev', hostLink);
    ip('link', 'set', hostLink, 'up');
    ip('netns', 'exec', namespace, 'ip', 'addr', 'add', `${peerAddress}/30`, 'dev', peerLink);
    ip('netns', 'exec', namespace, 'ip', 'link', 'set', peerLink, 'up');
    ip('netns', 'exec', namespace, 'ip', 'link', 'set', 'lo', 'up');
  } catch (error) {
    cleanUp(namespace, hostLink);
    const reason = `cannot make a network namespace (root and iproute2 needed): ${((error as { stderr?: Buffer }).stderr ?? '').toString().trim() || (error as Error).message}`;
    if (process.env.CI) throw new Error(`${reason}; CI is set, so this test must run`);
    return reason;
  }
  return {
    hostAddress,
    peerAddress,
    async fetch(url, init = {}) {
      const script = `const { url, init } = JSON.parse(process.env.REQUEST);
const response = await fetch(url, init);
console.log(JSON.stringify({ status: response.status, headers: Object.fromEntries(response.headers), body: await response.text() }));`;
      const { stdout } = await run('ip', ['netns', 'exec', namespace, process.execPath, '--input-type=module', '-e', script], {
        env: { ...process.env, REQUEST: JSON.stringify({ url, init }) },
        timeout: 10_000,
      });
      return JSON.parse(stdout) as { status: number; headers: Record<string, string>; body: string };
    },
    close: () => cleanUp(namespace, hostLink),
  };
}

function cleanUp(namespace: string, hostLink: string): void {
  for (const args of [
    ['link', 'del', hostLink],
    ['netns', 'del', namespace],
  ]) {
    try {
      execFileSync('ip', args, { stdio: 'ignore' });
    } catch {
      // not made, or already gone with the namespace
    }
  }
}
