/**
 * HTTP/1.1 over a bare TCP socket, for requests no HTTP client would send: any bytes in the target
 * and header values, duplicated headers, a Content-Length the body does not match, a body cut off
 * by the client closing its side. Every request says `Connection: close`, so the server's answer
 * ends where its framing (Content-Length, chunked) or the connection says.
 */
import { connect } from 'node:net';

export interface RawRequest {
  method: string;
  /** The request target as sent: path and query, any bytes. */
  target: string | Buffer;
  /** In order, duplicates allowed; `Host` and `Connection: close` are added unless present. */
  headers: ReadonlyArray<readonly [name: string, value: string | Buffer]>;
  body?: Buffer;
  /**
   * Send only this many bytes of `body`, then close the sending side (the server sees the end of
   * the stream before the end of the body its headers announced).
   */
  truncateAt?: number;
}

export interface RawResponse {
  status: number;
  /** Lower-cased names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * What became of a request: an answer; no answer within the time allowed (`timeout`); or the
 * connection reset (`reset`) or closed (`closed`) before an answer was complete, with the status
 * line when that had arrived.
 */
export type RawOutcome =
  | { kind: 'response'; response: RawResponse }
  | { kind: 'timeout' }
  | { kind: 'reset' | 'closed'; code?: string; status?: number };

export function serializeRequest(request: RawRequest, host: string): Buffer {
  const names = new Set(request.headers.map(([name]) => name.toLowerCase()));
  const headers: Array<readonly [string, string | Buffer]> = [
    ...(names.has('host') ? [] : [['Host', host] as const]),
    ...request.headers,
    ...(names.has('connection') ? [] : [['Connection', 'close'] as const]),
  ];
  const parts: Buffer[] = [Buffer.from(`${request.method} `), Buffer.from(request.target), Buffer.from(' HTTP/1.1\r\n')];
  for (const [name, value] of headers) parts.push(Buffer.from(`${name}: `), Buffer.from(value), Buffer.from('\r\n'));
  parts.push(Buffer.from('\r\n'));
  if (request.body) parts.push(request.truncateAt === undefined ? request.body : request.body.subarray(0, request.truncateAt));
  return Buffer.concat(parts);
}

/** Sends `request` to `url`'s host and port and reads the answer, within `timeoutMs`. */
export function rawRequest(url: string, request: RawRequest, timeoutMs: number): Promise<RawOutcome> {
  const { hostname, port, host } = new URL(url);
  const bytes = serializeRequest(request, host);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname === 'localhost' ? '127.0.0.1' : hostname, port: Number(port) });
    const reader = new ResponseReader(request.method === 'HEAD');
    let settled = false;
    const settle = (outcome: RawOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => settle({ kind: 'timeout' }), timeoutMs);
    socket.on('connect', () => {
      socket.write(bytes);
      if (request.truncateAt !== undefined) socket.end();
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        const response = reader.push(chunk);
        if (response) settle({ kind: 'response', response });
      } catch (error) {
        settle({ kind: 'closed', code: (error as Error).message });
      }
    });
    socket.on('end', () => {
      const response = reader.end();
      settle(response ? { kind: 'response', response } : { kind: 'closed', status: reader.status });
    });
    socket.on('error', (error: NodeJS.ErrnoException) => settle({ kind: 'reset', code: error.code, status: reader.status }));
    socket.on('close', () => settle({ kind: 'closed', status: reader.status }));
  });
}

const NO_BODY_STATUSES = new Set([204, 304]);

/** Reads one HTTP/1.1 response (after any 1xx interim ones) from the bytes of a connection. */
class ResponseReader {
  #buffer = Buffer.alloc(0);
  #head: { status: number; headers: Record<string, string>; bodyStart: number } | undefined;
  readonly #headRequest: boolean;

  constructor(headRequest: boolean) {
    this.#headRequest = headRequest;
  }

  get status(): number | undefined {
    return this.#head?.status;
  }

  /** The response, once it is complete. */
  push(chunk: Buffer): RawResponse | undefined {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    return this.#complete(false);
  }

  /** The response, if the connection's end completes it (a body framed by the close). */
  end(): RawResponse | undefined {
    return this.#complete(true);
  }

  #complete(ended: boolean): RawResponse | undefined {
    while (!this.#head) {
      const end = this.#buffer.indexOf('\r\n\r\n');
      if (end < 0) return undefined;
      const [statusLine, ...lines] = this.#buffer.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
      if (!status) throw new Error(`not an HTTP response: ${statusLine.slice(0, 80)}`);
      if (status < 200) { // an interim response (100 Continue): the real one follows
        this.#buffer = this.#buffer.subarray(end + 4);
        continue;
      }
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
      }
      this.#head = { status, headers, bodyStart: end + 4 };
    }
    const { status, headers, bodyStart } = this.#head;
    const rest = this.#buffer.subarray(bodyStart);
    if (this.#headRequest || NO_BODY_STATUSES.has(status)) return { status, headers, body: Buffer.alloc(0) };
    if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) {
      const body = dechunk(rest);
      return body ? { status, headers, body } : undefined;
    }
    if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      return rest.length >= length ? { status, headers, body: rest.subarray(0, length) } : undefined;
    }
    return ended ? { status, headers, body: rest } : undefined;
  }
}

/** A chunked body (RFC 9112 §7.1), once its last chunk has arrived. */
function dechunk(bytes: Buffer): Buffer | undefined {
  const chunks: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(bytes.subarray(at, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) throw new Error('malformed chunked response');
    // The last chunk, then trailer lines, then an empty line.
    if (size === 0) return bytes.includes('\r\n\r\n', lineEnd) ? Buffer.concat(chunks) : undefined;
    const start = lineEnd + 2;
    if (bytes.length < start + size + 2) return undefined;
    chunks.push(bytes.subarray(start, start + size));
    at = start + size + 2;
  }
}
