/**
 * On a Node older than 22.18 (the machine's own Node 20 on a fresh Debian), the CLI and the library
 * entry say which Node they need in one sentence instead of failing with a SyntaxError.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type PublishedPackage, publishedPackage } from '../../bench/lib/published-package.ts';
import { unsupportedNodeMessage } from '../../src/node-version.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A Node older than 22.18 on this machine: Debian's /usr/bin/node (20 on this machine kind). */
function olderNode(): { path: string; version: string } | undefined {
  for (const path of ['/usr/bin/node', '/usr/local/bin/node']) {
    if (!existsSync(path)) continue;
    const version = execFileSync(path, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
    if (unsupportedNodeMessage(version)) return { path, version };
  }
  return undefined;
}

const old = olderNode();
if (!old && process.env.CI)
  throw new Error('CI is set but this machine has no Node older than 22.18 at /usr/bin/node: the old-Node checks must run');
const withOldNode = old ? it : it.skip;

function sentence(version: string): string {
  return `oidc-testbed needs Node.js 22.18 or later (this is ${version}); see README "Quick start"`;
}

describe('the supported Node', () => {
  it('is 22.18 or later', () => {
    expect(unsupportedNodeMessage('20.20.2')).toBe(sentence('20.20.2'));
    expect(unsupportedNodeMessage('22.17.1')).toBe(sentence('22.17.1'));
    expect(unsupportedNodeMessage('14.21.3')).toBe(sentence('14.21.3'));
    expect(unsupportedNodeMessage('22.18.0')).toBeUndefined();
    expect(unsupportedNodeMessage('23.0.0')).toBeUndefined();
    expect(unsupportedNodeMessage('24.11.1')).toBeUndefined();
  });
});

describe('on an older Node', () => {
  let built: PublishedPackage;
  beforeAll(() => {
    if (old) built = publishedPackage();
  }, 120_000);
  afterAll(() => built?.remove());

  withOldNode('the CLI of a clone exits 1 with one line', () => {
    const run = spawnSync(old!.path, ['bin/oidc-testbed.js', 'start'], { cwd: ROOT, encoding: 'utf8' });
    expect({ status: run.status, stdout: run.stdout, stderr: run.stderr }).toEqual({
      status: 1,
      stdout: '',
      stderr: `${sentence(old!.version)}\n`,
    });
  });

  withOldNode('the CLI of the published package exits 1 with one line', () => {
    const run = spawnSync(old!.path, [join(built.dir, 'bin/oidc-testbed.js'), 'start'], { cwd: built.dir, encoding: 'utf8' });
    expect({ status: run.status, stdout: run.stdout, stderr: run.stderr }).toEqual({
      status: 1,
      stdout: '',
      stderr: `${sentence(old!.version)}\n`,
    });
  });

  withOldNode('import("oidc-testbed") rejects with the same sentence, before oidc-provider runs', () => {
    const script = `import(${JSON.stringify(join(built.dir, 'dist/index.js'))}).then(() => console.log('imported'), (error) => console.log(error.message));`;
    const run = spawnSync(old!.path, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect({ status: run.status, stdout: run.stdout, stderr: run.stderr }).toEqual({
      status: 0,
      stdout: `${sentence(old!.version)}\n`,
      stderr: '',
    });
  });

  withOldNode('while Node 22.18+ imports the same built package', () => {
    const script = `import(${JSON.stringify(join(built.dir, 'dist/index.js'))}).then((m) => console.log(typeof m.startTestbed));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(run.stdout).toBe('function\n');
  });
});
