/** A small keep-alive HTTP client for preparing tokens and driving multi-step flows. */
import { Agent, request } from 'node:http';

export const agent = new Agent({ keepAlive: true, maxSockets: 64 });

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * One request on the keep-alive agent. A request sent on a reused socket that the server closed at
 * the same moment (its keep-alive timeout) fails with ECONNRESET before any response; as Node's
 * documentation advises (`request.reusedSocket`), it is sent once more, on a new socket.
 */
export async function send(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Response> {
  try {
    return await sendOnce(port, method, path, headers, body);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ECONNRESET' || !(error as { staleSocket?: boolean }).staleSocket) throw error;
    return sendOnce(port, method, path, headers, body);
  }
}

function sendOnce(port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Response> {
  return new Promise((resolve, reject) => {
    let responded = false;
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        method,
        path,
        headers:
          body === undefined
            ? headers
            : { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(Buffer.byteLength(body)), ...headers },
        timeout: 10000,
      },
      (res) => {
        responded = true;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', (error) => reject(Object.assign(error, { staleSocket: req.reusedSocket && !responded })));
    req.end(body);
  });
}

export function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

export function form(fields: Record<string, string>): string {
  return new URLSearchParams(fields).toString();
}

export async function json<T>(response: Promise<Response>, what: string): Promise<T> {
  const { status, body } = await response;
  if (status !== 200) throw new Error(`${what}: ${status} ${body.slice(0, 300)}`);
  return JSON.parse(body) as T;
}

/** Runs `task` `count` times, `concurrency` at a time. */
export async function times<T>(count: number, concurrency: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const index = next++;
        out[index] = await task(index);
      }
    }),
  );
  return out;
}
