/**
 * The npm package ships what the docs promise (dist, bin, fixtures with their JSON Schema, the jest
 * helper `oidc-testbed/jest`, README, LICENSE, CHANGELOG) and nothing of the clone's (tests,
 * sources, build leftovers); installed from its tarball into an empty folder, `npx oidc-testbed
 * start` serves and `setupFiles: ['oidc-testbed/jest']` works. Nothing here skips: the install
 * needs the npm cache or the registry, and fails when it has neither.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { commandOutput, REPO_ROOT, runCommand } from '../support/command.ts';
import { NPM, NPX, type PackageTarball, packTarball } from '../support/package-tarball.ts';

const JEST = join(REPO_ROOT, 'node_modules/jest/bin/jest.js');
const packageJson = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  main: string;
  types: string;
  bin: Record<string, string>;
  exports: Record<string, Record<string, string>>;
};

/** Every module of src/ (`cli/main`), the names dist/ must have and may only have. */
function sourceModules(dir = join(REPO_ROOT, 'src'), prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceModules(join(dir, entry.name), `${prefix}${entry.name}/`)
      : entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')
        ? [`${prefix}${entry.name.slice(0, -3)}`]
        : [],
  );
}

/** The environment without the container variables that would change what the CLI does. */
function cleanEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('OIDC_TESTBED_') && name !== 'REDIS_URL'));
}

let packed: PackageTarball;
beforeAll(async () => {
  packed = await packTarball();
}, 60_000);
afterAll(() => packed?.remove());

describe('npm pack', () => {
  it('ships dist, bin, the fixtures with schema.json, README, LICENSE, CHANGELOG and package.json, and nothing else', () => {
    const outside = packed.files.filter((path) => !path.startsWith('dist/'));
    const fixtures = readdirSync(join(REPO_ROOT, 'fixtures')).map((name) => `fixtures/${name}`);
    expect(fixtures).toContain('fixtures/schema.json');
    expect(outside).toEqual(['CHANGELOG.md', 'LICENSE', 'README.md', 'bin/oidc-testbed.js', ...fixtures.sort(), 'package.json'].sort());
    expect(packed.files).toEqual(
      expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/jest-realm.js', 'dist/jest-realm.d.ts']),
    );
  });

  it('ships the build of every module of src/ and only that: no tests, no TypeScript sources, no leftovers', () => {
    const modules = sourceModules();
    const expected = modules.flatMap((module) => [`dist/${module}.js`, `dist/${module}.d.ts`, `dist/${module}.js.map`]).sort();
    expect(packed.files.filter((path) => path.startsWith('dist/'))).toEqual(expected);
    expect(packed.files.filter((path) => /(^|\/)(test|src|bench|examples|scripts|docs|docker)\//.test(path))).toEqual([]);
    expect(packed.files.filter((path) => /\.test\.|\.ts$/.test(path) && !path.endsWith('.d.ts'))).toEqual([]);
  });

  it('ships every file package.json points at: main, types, bin and each export', () => {
    const targets = [
      packageJson.main,
      packageJson.types,
      ...Object.values(packageJson.bin),
      ...Object.values(packageJson.exports).flatMap((conditions) =>
        Object.entries(conditions)
          .filter(([condition]) => condition !== 'oidc-testbed-source') // a clone's own: its sources
          .map(([, target]) => target),
      ),
    ].map((target) => target.replace(/^\.\//, ''));
    expect(packageJson.exports['./jest']).toMatchObject({ import: './dist/jest-realm.js', types: './dist/jest-realm.d.ts' });
    expect(targets.filter((target) => !packed.files.includes(target))).toEqual([]);
  });

  it('ships source maps that carry their sources (the sources themselves are not shipped)', async () => {
    const unpacked = join(packed.scratch, 'unpacked');
    mkdirSync(unpacked);
    await commandOutput('tar', ['-xzf', packed.tarball, '-C', unpacked]);
    const maps = packed.files.filter((path) => path.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(100);
    const missing: string[] = [];
    for (const path of maps) {
      const map = JSON.parse(readFileSync(join(unpacked, 'package', path), 'utf8')) as {
        sources: string[];
        sourcesContent?: (string | null)[];
      };
      map.sources.forEach((source, index) => {
        const shipped = packed.files.includes(join(path, '..', source));
        if (!shipped && typeof map.sourcesContent?.[index] !== 'string') missing.push(`${path} → ${source}`);
      });
    }
    expect(missing).toEqual([]);
    const script = readFileSync(join(unpacked, 'package/dist/index.js'), 'utf8');
    expect(script).toMatch(/\/\/# sourceMappingURL=index\.js\.map\s*$/);
  });
});

describe('installed from the tarball into an empty folder', () => {
  let app: string;
  beforeAll(async () => {
    app = join(packed.scratch, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    // The dependencies come from npm's cache when it has them (a clone's `npm install` put them there).
    await commandOutput(NPM, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel', 'error', packed.tarball], {
      cwd: app,
    });
  }, 90_000);

  it('`npx oidc-testbed start --port 0` serves discovery (from dist/: no sources are installed) and stops on SIGTERM', async () => {
    expect(existsSync(join(app, 'node_modules/oidc-testbed/dist/cli/main.js'))).toBe(true);
    expect(existsSync(join(app, 'node_modules/oidc-testbed/src'))).toBe(false);
    // Its own process group, so that SIGTERM reaches the CLI under npx.
    const child: ChildProcess = spawn(NPX, ['--no-install', 'oidc-testbed', 'start', '--port', '0', '--no-apis', '--ephemeral-keys'], {
      cwd: app,
      env: cleanEnvironment(),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = once(child, 'exit');
    try {
      const discovery = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no banner within 30 s: ${output}`)), 30_000);
        const read = (chunk: Buffer) => {
          output += chunk.toString();
          const url = /^\s*discovery\s+(\S+)$/m.exec(output)?.[1];
          if (url) {
            clearTimeout(timer);
            resolve(url);
          }
        };
        child.stdout?.on('data', read);
        child.stderr?.on('data', read);
        void exited.then(() => reject(new Error(`the CLI exited before its banner: ${output}`)));
      });
      const answer = await fetch(discovery, { signal: AbortSignal.timeout(10_000) });
      expect(answer.status).toBe(200);
      const metadata = (await answer.json()) as { issuer: string; token_endpoint: string };
      expect(`${metadata.issuer}/.well-known/openid-configuration`).toBe(discovery);
      expect(metadata.token_endpoint.startsWith(metadata.issuer)).toBe(true);
    } finally {
      if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))]);
      clearTimeout(timer);
      if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGKILL');
    }
    expect(output).toContain('oidc-testbed: SIGTERM, stopping');
  }, 45_000);

  it("`setupFiles: ['oidc-testbed/jest']` lets a jest suite start the default fixture, whose clients have jwks", async () => {
    writeFileSync(
      join(app, 'realm.test.js'),
      `import { startTestbed } from 'oidc-testbed';
test('starts the default fixture', async () => {
  const testbed = await startTestbed({ port: 0, apis: false, logLevel: 'silent' });
  try {
    expect((await fetch(testbed.urls.discovery)).status).toBe(200);
  } finally {
    await testbed.stop();
  }
});
`,
    );
    const jest = (setupFiles: string[]) => {
      const config = { rootDir: app, testEnvironment: 'node', transform: {}, testMatch: ['<rootDir>/realm.test.js'], setupFiles };
      return runCommand(process.execPath, [JEST, '--config', JSON.stringify(config), '--ci', '--colors=false'], {
        cwd: app,
        env: { ...cleanEnvironment(), NODE_OPTIONS: '--experimental-vm-modules --no-warnings' },
      });
    };
    const [withHelper, without] = await Promise.all([jest(['oidc-testbed/jest']), jest([])]);
    expect({ code: withHelper.code, output: withHelper.stderr }).toMatchObject({ code: 0, output: expect.stringContaining('1 passed') });
    // The quirk the helper is for: without it, oidc-provider refuses the clients' jwks inside jest.
    expect(without.code).not.toBe(0);
    expect(without.stderr).toContain('oidc-provider refuses this client: client JSON Web Key Set is invalid');
  }, 45_000);
});
