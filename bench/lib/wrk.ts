/**
 * Load from wrk (Debian's `wrk`), one thread, pinned to the load core. Two modes:
 * - `request`: the same request over and over for `seconds`;
 * - `requests`: each request of a list sent once (first use of a token, revocation); when the
 *   list is used up wrk is interrupted (or it stops after `seconds`), and the rate is timed inside
 *   wrk from the first request to the last counted response.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pinned } from './cpu.ts';
import { cpuMicros, serverPidOf } from './processes.ts';

export interface HttpRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadResult {
  /** Successful (2xx/3xx) responses. */
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** Failed responses (4xx/5xx) plus socket errors. */
  errors: number;
  /**
   * CPU time the server process used during the load, per successful response, in µs (from
   * /proc/<pid>/stat, 10 ms ticks): its cost per request, which other processes on the machine
   * disturb far less than its rate. Undefined when the port's process is unknown.
   */
  serverCpuMicros?: number;
}

const FIXED = String.raw`
local threads = {}
function setup(thread) table.insert(threads, thread) end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH_JSON {\"ok\":%d,\"us\":%d,\"p50\":%d,\"p99\":%d,\"errors\":%d}\n",
    summary.requests - e.status, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status + e.connect + e.read + e.write + e.timeout))
end
`;

const LIST = String.raw`
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_usec; } bench_timeval; int gettimeofday(bench_timeval *tv, void *tz); ]]
local tv = ffi.new("bench_timeval")
local function now() ffi.C.gettimeofday(tv, nil); return tonumber(tv.tv_sec) * 1000000 + tonumber(tv.tv_usec) end
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  reqs = {}
  for line in io.lines(args[1]) do
    local f = {}
    for field in (line .. "\t"):gmatch("([^\t]*)\t") do table.insert(f, field) end
    local headers = {}
    for i = 4, #f do
      local k, v = f[i]:match("^([^:]+):(.*)$")
      headers[k] = v
    end
    local body = f[3]
    if body == "" then body = nil end
    table.insert(reqs, wrk.format(f[1], f[2], headers, body))
  end
  i = 0; ok = 0; bad = 0; first = 0; last = 0
end
function request()
  if i == 0 then first = now() end
  i = i + 1
  if i > #reqs then
    if i == #reqs + 1 then
      io.write("BENCH_EXHAUSTED\n")
      io.flush()
    end
    return reqs[#reqs]
  end
  return reqs[i]
end
function response(status, headers, body)
  -- Once the list is used up the last request is sent again as a filler (a DPoP proof replayed,
  -- a token revoked twice): stop counting there, at the cost of the few answers still in flight.
  if i > #reqs then return end
  if status < 400 then ok = ok + 1 else bad = bad + 1 end
  last = now()
end
function done(summary, latency, requests)
  local t = threads[1]
  local e = summary.errors
  io.write(string.format("BENCH_JSON {\"ok\":%d,\"us\":%d,\"p50\":%d,\"p99\":%d,\"errors\":%d}\n",
    t:get("ok"), t:get("last") - t:get("first"), latency:percentile(50), latency:percentile(99),
    t:get("bad") + e.connect + e.read + e.write + e.timeout))
end
`;

let scratch: string | undefined;
function scratchDir(): string {
  scratch ??= mkdtempSync(join(tmpdir(), 'oidc-testbed-bench-'));
  return scratch;
}
export function removeScratch(): void {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}

function luaString(value: string): string {
  return JSON.stringify(value); // a JSON string of ASCII text is a valid Lua string literal
}

export interface WrkOptions {
  port: number;
  seconds: number;
  connections: number;
}

export async function wrk(options: WrkOptions, load: { request: HttpRequest } | { requests: HttpRequest[] }): Promise<LoadResult> {
  const dir = scratchDir();
  const args = ['-t1', `-c${options.connections}`, `-d${Math.max(1, Math.round(options.seconds))}s`, '--timeout', '5s'];
  const url = `http://127.0.0.1:${options.port}`;
  if ('request' in load) {
    const { method = 'GET', path, headers = {}, body } = load.request;
    const lines = [`wrk.method = ${luaString(method)}`, `wrk.path = ${luaString(path)}`];
    for (const [name, value] of Object.entries(headers)) lines.push(`wrk.headers[${luaString(name)}] = ${luaString(value)}`);
    if (body !== undefined) lines.push(`wrk.body = ${luaString(body)}`);
    const script = join(dir, `fixed-${process.hrtime.bigint()}.lua`);
    writeFileSync(script, `${lines.join('\n')}\n${FIXED}`);
    return run([...args, '-s', script, url], options.seconds, serverPidOf(options.port));
  }
  if (load.requests.length === 0) throw new Error('wrk: empty request list');
  const list = join(dir, `list-${process.hrtime.bigint()}.tsv`);
  writeFileSync(
    list,
    `${load.requests.map((r) => [r.method ?? 'GET', r.path, r.body ?? '', ...Object.entries(r.headers ?? {}).map(([k, v]) => `${k}:${v}`)].join('\t')).join('\n')}\n`,
  );
  const script = join(dir, 'list.lua');
  writeFileSync(script, LIST);
  return run([...args, '-s', script, url, '--', list], options.seconds, serverPidOf(options.port));
}

function run(args: string[], seconds: number, serverPid?: number): Promise<LoadResult> {
  const [command, commandArgs] = pinned('load', 'wrk', args);
  const cpuBefore = serverPid === undefined ? undefined : cpuMicros(serverPid);
  return new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let interrupted = false;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      // wrk sleeps through its whole -d; SIGINT ends it early and it still reports.
      if (!interrupted && out.includes('BENCH_EXHAUSTED')) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), (seconds + 15) * 1000);
    child.on('error', (error) => {
      clearTimeout(killer);
      reject(error);
    });
    child.on('exit', (code) => {
      clearTimeout(killer);
      const match = /BENCH_JSON (\{.*\})/.exec(out);
      if (code !== 0 || !match) return reject(new Error(`wrk failed (exit ${code}): ${out.slice(-500)}`));
      const raw = JSON.parse(match[1]) as { ok: number; us: number; p50: number; p99: number; errors: number };
      const cpuAfter = serverPid === undefined ? undefined : cpuMicros(serverPid);
      const serverCpuMicros = cpuBefore !== undefined && cpuAfter !== undefined && raw.ok > 0 ? (cpuAfter - cpuBefore) / raw.ok : undefined;
      resolve({
        requests: raw.ok,
        perSecond: raw.us > 0 ? raw.ok / (raw.us / 1e6) : 0,
        p50: raw.p50 / 1000,
        p99: raw.p99 / 1000,
        errors: raw.errors,
        serverCpuMicros,
      });
    });
  });
}
