/**
 * The documentation's relative links resolve: every `[text](target)` and `[label]: target` in
 * README.md, docs/*.md, bench/README.md, examples/**\/README.md, CHANGELOG.md and CONTRIBUTING.md
 * names a file or folder of this repository, and every `#anchor` a heading of the target (GitHub's
 * heading slugs). And nothing of the README that was split into docs/ (issue 23) is lost: each of
 * its old headings has a home that exists.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The Markdown files whose links are checked, relative to the root. */
function documents(): string[] {
  const markdownIn = (folder: string) =>
    readdirSync(join(ROOT, folder))
      .filter((name) => name.endsWith('.md'))
      .map((name) => join(folder, name));
  const readmesUnder = (folder: string): string[] =>
    readdirSync(join(ROOT, folder), { withFileTypes: true }).flatMap((entry) => {
      if (entry.name === 'node_modules') return [];
      const path = join(folder, entry.name);
      if (entry.isDirectory()) return readmesUnder(path);
      return entry.name === 'README.md' ? [path] : [];
    });
  return ['README.md', 'CHANGELOG.md', 'CONTRIBUTING.md', 'bench/README.md', ...markdownIn('docs'), ...readmesUnder('examples')];
}

/** The lines outside fenced code blocks, with inline code spans blanked (a link in code is not a link). */
function proseLines(text: string): string[] {
  const lines: string[] = [];
  let fence: string | undefined;
  for (const line of text.split('\n')) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (marker && (fence === undefined || marker.startsWith(fence))) {
      fence = fence === undefined ? marker : undefined;
      continue;
    }
    if (fence === undefined) lines.push(line.replace(/(`+)(?:(?!\1).)+?\1/g, 'code'));
  }
  return lines;
}

/** GitHub's anchor for a heading's text: lowercase, punctuation dropped except - and _, spaces to -. */
function slugOf(heading: string): string {
  // Code spans keep their text (`<issuer>` included); outside them, links and HTML tags render as their text.
  const text = heading
    .split(/(`+[^`]*`+)/)
    .map((part, index) =>
      index % 2 === 1
        ? part.replace(/`/g, '')
        : part
            .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
            .replace(/<[^>]+>/g, '')
            .replace(/\*/g, ''),
    )
    .join('');
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Every anchor a Markdown file has: its headings' slugs, duplicates numbered -1, -2, … */
function anchorsOf(text: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  let fence: string | undefined;
  for (const line of text.split('\n')) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (marker && (fence === undefined || marker.startsWith(fence))) {
      fence = fence === undefined ? marker : undefined;
      continue;
    }
    const heading = fence === undefined ? /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1] : undefined;
    if (heading === undefined) continue;
    const slug = slugOf(heading);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

const anchorCache = new Map<string, Set<string>>();
const anchorsOfFile = (path: string) => {
  let anchors = anchorCache.get(path);
  if (!anchors) anchorCache.set(path, (anchors = anchorsOf(readFileSync(path, 'utf8'))));
  return anchors;
};

/** Why a relative link from `from` (a root-relative file) does not resolve, or undefined when it does. */
function brokenLink(from: string, target: string): string | undefined {
  const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
  const path = pathPart === '' ? join(ROOT, from) : resolve(dirname(join(ROOT, from)), decodeURIComponent(pathPart));
  if (!path.startsWith(ROOT)) return 'points outside the repository';
  if (!existsSync(path)) return `${relative(ROOT, path)} does not exist`;
  if (anchor === undefined || anchor === '') return undefined;
  if (statSync(path).isDirectory() || !path.endsWith('.md')) return `#${anchor} on a file that is not Markdown`;
  return anchorsOfFile(path).has(anchor) ? undefined : `${relative(ROOT, path)} has no heading with the anchor #${anchor}`;
}

const EXTERNAL = /^(?:[a-z][a-z0-9+.-]*:|\/\/)/i;

/** The relative links of a document: inline `[text](target "title")` and definitions `[label]: target`. */
function linksOf(text: string): string[] {
  const links: string[] = [];
  for (const line of proseLines(text)) {
    for (const match of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push(match[1]);
    const definition = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(line);
    if (definition) links.push(definition[1]);
  }
  return links.filter((link) => !EXTERNAL.test(link));
}

/**
 * Each heading of the README as it was before it was split (`git show <before>:README.md | grep '^#'`,
 * code comments included: those lines are in code blocks), and where its text lives now. A `line`
 * entry is a code block's comment, found by its exact line.
 */
const OLD_README_HEADINGS: ReadonlyArray<{ old: string; home: string; line?: true }> = [
  { old: '# oidc-testbed', home: 'README.md#oidc-testbed' },
  { old: '## Quick start', home: 'docs/getting-started.md#quick-start' },
  { old: '### CLI', home: 'docs/getting-started.md#cli' },
  { old: '## The default fixture', home: 'docs/fixtures.md#the-default-fixture' },
  { old: '## What the IdP does', home: 'docs/protocol.md#what-the-idp-does' },
  {
    old: '## Every grant, endpoint and extension, and how to turn it on',
    home: 'docs/protocol.md#every-grant-endpoint-and-extension-and-how-to-turn-it-on',
  },
  { old: '### Further issuers and the `fapi2` profile', home: 'docs/protocol.md#further-issuers-and-the-fapi2-profile' },
  { old: '## Protocol extensions in detail', home: 'docs/extensions.md#protocol-extensions-dpop-par-request-objects-jar-and-jarm' },
  { old: '### DPoP (RFC 9449)', home: 'docs/extensions.md#dpop-rfc-9449' },
  { old: '### Pushed authorization requests (RFC 9126)', home: 'docs/extensions.md#pushed-authorization-requests-rfc-9126' },
  { old: '### Request objects (JAR, RFC 9101)', home: 'docs/extensions.md#request-objects-jar-rfc-9101' },
  {
    old: '### JWT responses from the authorization endpoint (JARM)',
    home: 'docs/extensions.md#jwt-responses-from-the-authorization-endpoint-jarm',
  },
  { old: '### CIBA (Client-Initiated Backchannel Authentication)', home: 'docs/ciba.md#ciba-client-initiated-backchannel-authentication' },
  { old: '#### Turning it on', home: 'docs/ciba.md#turning-it-on' },
  { old: '#### The request', home: 'docs/ciba.md#the-request' },
  { old: '#### Approving and denying', home: 'docs/ciba.md#approving-and-denying' },
  { old: '### Control endpoints (`<issuer>/_testbed/…`)', home: 'docs/control-api.md#who-may-call-the-control-lock' },
  {
    old: '### Dynamic client registration (RFC 7591) and management (RFC 7592)',
    home: 'docs/registration.md#dynamic-client-registration-rfc-7591-and-management-rfc-7592',
  },
  { old: '# 201 {"client_id":"…","client_secret":"…","registration_access_token":"…",', home: 'docs/registration.md', line: true },
  { old: '#      "registration_client_uri":"http://localhost:9400/reg/…", …}', home: 'docs/registration.md', line: true },
  {
    old: '### JWT-secured and encrypted responses: introspection (RFC 9701), userinfo, ID tokens',
    home: 'docs/jwt-responses.md#jwt-secured-and-encrypted-responses-introspection-rfc-9701-userinfo-id-tokens',
  },
  { old: '### Token exchange (RFC 8693)', home: 'docs/token-exchange.md#token-exchange-rfc-8693' },
  { old: '### Password grant (RFC 6749 §4.3)', home: 'docs/password-grant.md#password-grant-rfc-6749-43' },
  { old: '## Pointing clients at it', home: 'docs/clients.md#pointing-clients-at-it' },
  { old: '## Using it from a test suite', home: 'docs/testing.md#using-it-from-a-test-suite-jest-vitest-nodetest-playwright' },
  {
    old: '## Mock resource servers: a profile API and a directory API',
    home: 'docs/mock-apis.md#mock-resource-servers-a-profile-api-and-a-directory-api',
  },
  { old: '# no token: both schemes offered, no error code', home: 'docs/mock-apis.md', line: true },
  { old: '# malformed request (bad header, token sent two ways, unsupported scheme)', home: 'docs/mock-apis.md', line: true },
  {
    old: '# expired, bad signature, wrong issuer, wrong audience, revoked, …: the description says which',
    home: 'docs/mock-apis.md',
    line: true,
  },
  { old: '# missing scope', home: 'docs/mock-apis.md', line: true },
  { old: '# DPoP problems', home: 'docs/mock-apis.md', line: true },
  { old: '## Running on Redis: replicas behind one issuer', home: 'docs/redis.md#running-on-redis-replicas-behind-one-issuer' },
  { old: '## Performance', home: 'bench/README.md#benchmarks' },
  { old: '### Conformance scenario runs', home: 'bench/README.md#conformance-scenario-runs' },
  { old: '### Start-up, the request log and reliability', home: 'bench/README.md#start-up-the-request-log-and-reliability' },
  { old: '## Docker', home: 'docs/docker.md#docker-run' },
  { old: '### Configuration', home: 'docs/docker.md#configuration' },
  {
    old: '### Issuer URL vs internal URL: the two standard setups',
    home: 'docs/docker.md#issuer-url-vs-internal-url-the-two-standard-setups',
  },
  { old: '### Compose', home: 'docs/docker.md#compose' },
  { old: '### GitHub Actions', home: 'docs/docker.md#github-actions' },
  { old: '### Testcontainers (Node)', home: 'docs/docker.md#testcontainers-node' },
  { old: '## Fixture format', home: 'docs/fixtures.md#fixture-format' },
  { old: '## Security defaults', home: 'docs/security.md#security-defaults' },
  {
    old: '## Conformance scenarios: issuers that break one rule on purpose',
    home: 'docs/conformance.md#conformance-scenarios-issuers-that-break-one-rule-on-purpose',
  },
  { old: '## Architecture', home: 'docs/architecture.md#architecture' },
];

describe('documentation links', () => {
  it('follows GitHub heading slugs', () => {
    expect(slugOf('Control endpoints (`<issuer>/_testbed/…`)')).toBe('control-endpoints-issuer_testbed');
    expect(slugOf('Password grant (RFC 6749 §4.3)')).toBe('password-grant-rfc-6749-43');
    expect(slugOf('Figure 7, Redis / memory')).toBe('figure-7-redis--memory');
    expect([...anchorsOf('# A\n## Setup\n```\n## Not a heading\n```\n## Setup\n### Setup\n')]).toEqual([
      'a',
      'setup',
      'setup-1',
      'setup-2',
    ]);
  });

  it('checks the files it should', () => {
    const files = documents();
    expect(files).toEqual(expect.arrayContaining(['README.md', 'docs/README.md', 'bench/README.md', 'examples/README.md']));
    expect(files.some((file) => file.includes('node_modules'))).toBe(false);
  });

  it('finds a broken link and a broken anchor', () => {
    expect(brokenLink('README.md', 'docs/no-such-page.md')).toBe('docs/no-such-page.md does not exist');
    expect(brokenLink('README.md', 'docs/getting-started.md#no-such-heading')).toMatch(/has no heading with the anchor/);
    expect(brokenLink('docs/README.md', '../README.md#quick-start')).toBeUndefined();
  });

  it.each(documents())('every relative link and anchor in %s resolves', (file) => {
    const broken = linksOf(readFileSync(join(ROOT, file), 'utf8'))
      .map((link) => ({ link, problem: brokenLink(file, link) }))
      .filter(({ problem }) => problem !== undefined);
    expect(broken).toEqual([]);
  });
});

describe('the README split into docs/ (issue 23)', () => {
  it('keeps the README at 15 KB at most', () => {
    expect(statSync(join(ROOT, 'README.md')).size).toBeLessThanOrEqual(15_000);
  });

  it.each(OLD_README_HEADINGS)('"$old" lives at $home', ({ old, home, line }) => {
    if (line) {
      expect(readFileSync(join(ROOT, home), 'utf8').split('\n')).toContain(old);
    } else {
      expect(brokenLink('README.md', home)).toBeUndefined();
    }
  });
});
