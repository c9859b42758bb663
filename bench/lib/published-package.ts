/**
 * The package as npm installs it from the registry: the `files` of package.json (`dist/` built by
 * `npm run build`'s tsc configuration, `bin/`, `fixtures/`) and package.json in a scratch directory,
 * its dependencies linked from this clone. Its CLI runs the compiled `dist/`, as `npx oidc-testbed`
 * does, where a clone runs the TypeScript sources (Node strips their types at load time).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './processes.ts';

export interface PublishedPackage {
  dir: string;
  remove(): void;
}

export function publishedPackage(): PublishedPackage {
  const dir = mkdtempSync(join(tmpdir(), 'oidc-testbed-package-'));
  try {
    const tsc = createRequire(join(REPO, 'package.json')).resolve('typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '-p', join(REPO, 'tsconfig.build.json'), '--outDir', join(dir, 'dist')], { stdio: 'inherit' });
    const { files } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { files: string[] };
    for (const entry of [...files.filter((file) => file !== 'dist'), 'package.json'])
      cpSync(join(REPO, entry), join(dir, entry), { recursive: true });
    symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
