/**
 * The npm tarball as `npm run build && npm pack` makes it from a clean checkout, made without
 * touching this clone's own dist/ (bin/oidc-testbed.js prefers a dist/ when there is one, so a
 * build left behind would shadow the sources): the checkout's files (tracked and untracked, not
 * ignored) are copied to a scratch directory, built there with tsconfig.build.json, and packed.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { commandOutput, REPO_ROOT } from './command.ts';

/** npm and npx of the Node running the tests (the machine's own may be older). */
export const NPM = join(dirname(process.execPath), 'npm');
export const NPX = join(dirname(process.execPath), 'npx');

export interface PackageTarball {
  /** The .tgz file. */
  tarball: string;
  /** Every path in it, relative to the package root (`dist/index.js`). */
  files: string[];
  /** A scratch directory of the caller's: removed with the rest. */
  scratch: string;
  remove(): void;
}

interface PackResult {
  filename: string;
  files: { path: string }[];
}

export async function packTarball(): Promise<PackageTarball> {
  const scratch = mkdtempSync(join(tmpdir(), 'oidc-testbed-pack-'));
  const remove = () => rmSync(scratch, { recursive: true, force: true });
  try {
    const checkout = join(scratch, 'checkout');
    const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    for (const path of listed.split('\0').filter((path) => path && existsSync(join(REPO_ROOT, path)))) {
      mkdirSync(dirname(join(checkout, path)), { recursive: true });
      cpSync(join(REPO_ROOT, path), join(checkout, path));
    }
    // A prepack script, if one is added, can then build with this clone's tools.
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(checkout, 'node_modules'), 'dir');
    const tsc = join(REPO_ROOT, 'node_modules/typescript/bin/tsc');
    await commandOutput(process.execPath, [tsc, '-p', join(checkout, 'tsconfig.build.json')], { cwd: checkout });
    const out = join(scratch, 'out');
    mkdirSync(out);
    const [packed] = JSON.parse(
      await commandOutput(NPM, ['pack', '--json', '--pack-destination', out], { cwd: checkout, env: { npm_config_loglevel: 'error' } }),
    ) as PackResult[];
    return { tarball: join(out, packed.filename), files: packed.files.map((file) => file.path).sort(), scratch, remove };
  } catch (error) {
    remove();
    throw error;
  }
}
