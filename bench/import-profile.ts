/**
 * Where the time of `await import('oidc-testbed')` goes, for the package as published (its dist/,
 * bench/lib/published-package.ts), compile cache off as a library user has it:
 *
 *   node bench/import-profile.ts [--top 15] [--runs 3] [--from dist/index.js --from dist/testbed.js]
 *
 * 1. One import under `node --cpu-prof` (100 µs sampling) on the server core: self time by package,
 *    file of dist/ or Node's own part (the module loader's resolution and compilation are Node's:
 *    V8 does not say which module they were for), then the time under each module's top-level code
 *    (its evaluation; for CommonJS modules the modules it requires too), by package and by file.
 * 2. Each package dist/ imports statically, and each module the `--from` modules import (by default
 *    dist/index.js and dist/testbed.js: the first level of the graph; name a heavy one to look one
 *    level down), imported in fresh processes: alone, and after oidc-provider (untimed): what it
 *    adds to the floor, i.e. the most that making it lazy could save.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { pinSelfToLoadCore } from './lib/cpu.ts';
import { publishedPackage } from './lib/published-package.ts';
import { installProbe, runProbe } from './lib/startup.ts';

const DEFAULT_FROM = ['dist/index.js', 'dist/testbed.js'];
const { values } = parseArgs({
  options: {
    top: { type: 'string', default: '15' },
    runs: { type: 'string', default: '3' },
    from: { type: 'string', multiple: true, default: DEFAULT_FROM },
  },
});
const TOP = Number(values.top);
const RUNS = Number(values.runs);

interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const PROBE_URL = /\/bench-startup-probe\.mjs$/;

/** A package (`node_modules/<name>`), a file of the package's dist/, or a part of Node. */
function originOf(url: string, functionName: string, packageDir: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : `native ${functionName}`;
  if (PROBE_URL.test(url)) return 'the probe (bench/probes/startup.mjs)';
  const inModules = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (inModules) return inModules[1];
  if (url.startsWith('file://')) return `oidc-testbed ${relative(packageDir, new URL(url).pathname)}`;
  if (url.startsWith('node:internal/modules/esm/')) return 'node: ES module loader (resolve, load, compile, link)';
  if (url.startsWith('node:internal/modules/cjs/')) return 'node: CommonJS loader (resolve, compile)';
  if (url === 'node:internal/modules/package_json_reader') return 'node: package.json lookups (resolution)';
  if (url.startsWith('node:internal/modules/')) return `node: ${url.slice('node:internal/modules/'.length)} (module loading)`;
  if (url.startsWith('node:internal/deps/'))
    return `node: ${url.slice('node:internal/deps/'.length).split('/')[0]} (a dependency of Node's)`;
  return url.startsWith('node:internal/') ? `node: ${url.slice('node:internal/'.length).split('/')[0]}` : url;
}

function summarizeProfile(profile: Profile, importMs: number, packageDir: string): void {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map(profile.nodes.flatMap((node) => (node.children ?? []).map((child) => [child, node.id] as const)));
  // The probe's own top level is where import() is called from: most of the loading runs under it.
  const isModuleTop = ({ functionName, url, lineNumber, columnNumber }: ProfileNode['callFrame']) =>
    functionName === '' && lineNumber === 0 && columnNumber === 0 && url.startsWith('file://') && !PROBE_URL.test(url);
  // WebAssembly (Node's CommonJS export lexer, for instance) is told by the code that calls it.
  const originOfNode = (id: number): string => {
    const { url, functionName } = nodes.get(id)!.callFrame;
    const parent = parents.get(id);
    return url.startsWith('wasm://') && parent !== undefined
      ? `${originOfNode(parent).replace(/ \(wasm\)$/, '')} (wasm)`
      : originOf(url, functionName, packageDir);
  };
  const shortFile = (url: string) => url.replace(/^file:\/\/.*?\/node_modules\//, '').replace(`file://${packageDir}/`, 'oidc-testbed ');
  const self = new Map<string, number>();
  const underPackage = new Map<string, number>();
  const underFile = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    total += delta;
    const origin = originOfNode(id);
    self.set(origin, (self.get(origin) ?? 0) + delta);
    const packages = new Set<string>();
    const files = new Set<string>();
    for (let node: number | undefined = id; node !== undefined; node = parents.get(node)) {
      const frame = nodes.get(node)!.callFrame;
      if (!isModuleTop(frame)) continue;
      packages.add(originOf(frame.url, '', packageDir).replace(/^oidc-testbed .*/, 'oidc-testbed (dist/)'));
      files.add(shortFile(frame.url));
    }
    for (const name of packages) underPackage.set(name, (underPackage.get(name) ?? 0) + delta);
    for (const name of files) underFile.set(name, (underFile.get(name) ?? 0) + delta);
  });
  const top = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP)
      .map(([name, us]) => `${(us / 1000).toFixed(1).padStart(7)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${name}`)
      .join('\n');
  console.log(
    `import('oidc-testbed') under --cpu-prof: ${importMs.toFixed(0)} ms (the profiler slows it); ${(total / 1000).toFixed(0)} ms of samples in the process`,
  );
  console.log(`\nself time, by package, dist/ file or part of Node:\n${top(self)}`);
  console.log(
    `\ntime under module top-level code (evaluation, with the CommonJS modules each requires), by package:\n${top(underPackage)}`,
  );
  console.log(`\nthe same, by module:\n${top(underFile)}`);
}

/** Bare specifiers (not node:) and relative ones that a compiled module imports statically. */
function staticImports(file: string): { bare: string[]; relative: string[] } {
  const source = readFileSync(file, 'utf8');
  const specifiers = [...source.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm)].map(
    (match) => match[1] ?? match[2],
  );
  return {
    bare: specifiers.filter((specifier) => !specifier.startsWith('.') && !specifier.startsWith('node:')),
    relative: specifiers.filter((specifier) => specifier.startsWith('.')),
  };
}

function distFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return distFiles(path);
    return entry.name.endsWith('.js') ? [path] : [];
  });
}

async function marginalCosts(packageDir: string): Promise<void> {
  const firstLevel = values.from.join() === DEFAULT_FROM.join();
  const from = values.from.map((module) => join(packageDir, module));
  const imported = from.map((module) => staticImports(module));
  const modules = imported.flatMap(({ relative: specifiers }, i) =>
    specifiers.map((specifier) => `./${relative(packageDir, join(dirname(from[i]), specifier))}`),
  );
  // The first level lists every package dist/ imports; below it, the packages of the modules named.
  const packages = firstLevel
    ? distFiles(join(packageDir, 'dist'))
        .flatMap((file) => staticImports(file).bare)
        .sort()
    : imported.flatMap(({ bare }) => bare);
  const named = values.from.map((module) => `./${module}`);
  const specifiers = [...new Set([...(firstLevel ? ['oidc-testbed'] : named), ...packages, ...modules])].filter(
    (specifier) => !firstLevel || !named.includes(specifier),
  );
  const median = (numbers: number[]) => [...numbers].sort((a, b) => a - b)[numbers.length >> 1];
  const rows: Array<{ name: string; alone: number; afterFloor: number }> = [];
  for (const specifier of specifiers) {
    const alone: number[] = [];
    const afterFloor: number[] = [];
    for (let i = 0; i < RUNS; i += 1) {
      alone.push((await runProbe(packageDir, ['import', specifier])).ms as number);
      afterFloor.push((await runProbe(packageDir, ['import', specifier, 'oidc-provider'])).ms as number);
    }
    rows.push({ name: specifier.replace(/^\.\//, ''), alone: median(alone), afterFloor: median(afterFloor) });
    console.error(`  ${specifier}: ${median(alone).toFixed(0)} ms alone, ${median(afterFloor).toFixed(0)} ms after oidc-provider`);
  }
  rows.sort((a, b) => b.afterFloor - a.afterFloor);
  console.log(
    `\nimport() in a fresh process, median of ${RUNS}, alone and after import('oidc-provider'): ${firstLevel ? 'the package, each package dist/ imports statically, and ' : `${values.from.join(', ')}, their packages and `}the modules ${values.from.join(', ')} import`,
  );
  console.log(`${'alone ms'.padStart(9)} ${'after oidc-provider ms'.padStart(23)}  module`);
  for (const row of rows) console.log(`${row.alone.toFixed(0).padStart(9)} ${row.afterFloor.toFixed(0).padStart(23)}  ${row.name}`);
}

pinSelfToLoadCore();
const published = publishedPackage();
const profiles = mkdtempSync(join(tmpdir(), 'oidc-testbed-import-profile-'));
try {
  installProbe(published.dir);
  const { ms } = await runProbe(published.dir, ['import', 'oidc-testbed'], {
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profiles}`, '--cpu-prof-interval=100'],
  });
  const file = readdirSync(profiles).find((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error('no profile was written');
  summarizeProfile(JSON.parse(readFileSync(join(profiles, file), 'utf8')) as Profile, ms as number, published.dir);
  await marginalCosts(published.dir);
} finally {
  rmSync(profiles, { recursive: true, force: true });
  published.remove();
}
