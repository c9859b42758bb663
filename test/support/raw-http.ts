/**
 * HTTP/1.1 over a bare TCP socket, for requests no HTTP client would send: any bytes in the target
 * and header values, duplicated headers, a Content-Length the body does not match, a body cut off
 * by the client closing its side. `rawRequest` sends one request on its own connection, saying
 * `Connection: close`; `RawConnections` keeps connections open for the requests after it.
 */
import { connect, type Socket } from 'node:net';

export interface RawRequest {
  method: string;
  /** The request target as sent: path and query, any bytes. */
  target: string | Buffer;
  /** In order, duplicates allowed; `Host` (and `Connection: close`, unless kept open) are added unless present. */
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

/**
 * How long to wait for an answer: a number of milliseconds, or `ms` and a judgement made when they
 * have passed (`hung`: whether the request counts as unanswered now, or is given `ms` more).
 */
export type Patience = number | { ms: number; hung(): boolean };

export function serializeRequest(request: RawRequest, host: string, keepOpen = false): Buffer {
  const names = new Set(request.headers.map(([name]) => name.toLowerCase()));
  let head = `${request.method} ${Buffer.from(request.target).toString('latin1')} HTTP/1.1\r\n`;
  if (!names.has('host')) head += `Host: ${host}\r\n`;
  for (const [name, value] of request.headers) head += `${name}: ${Buffer.from(value).toString('latin1')}\r\n`;
  if (!keepOpen && !names.has('connection')) head += 'Connection: close\r\n';
  head += '\r\n';
  const body = request.body && (request.truncateAt === undefined ? request.body : request.body.subarray(0, request.truncateAt));
  return body?.length ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : Buffer.from(head, 'latin1');
}

/** Sends `request` to `url`'s host and port on a connection of its own and reads the answer, with `patience`. */
export async function rawRequest(url: string, request: RawRequest, patience: Patience): Promise<RawOutcome> {
  const { host } = new URL(url);
  const socket = open(url);
  const { outcome } = await exchange(socket, false, serializeRequest(request, host), request, patience);
  socket.destroy();
  return outcome;
}

/**
 * Connections kept open between requests (HTTP/1.1 persistent connections, RFC 9112 §9.3), one
 * per host at a time: for many requests in a row, the cost of a TCP connection each is most of
 * the client's and much of the server's. A request is sent on a kept connection only when it may
 * be (`keepOpen`: not cut short, framed right); the connection is kept when the answer was
 * complete and did not say `Connection: close`.
 */
export class RawConnections {
  readonly #open = new Map<string, Socket>();

  async send(url: string, request: RawRequest, patience: Patience, keepOpen: boolean): Promise<RawOutcome> {
    const { host } = new URL(url);
    if (!keepOpen || request.truncateAt !== undefined) return rawRequest(url, request, patience);
    const bytes = serializeRequest(request, host, true);
    const kept = this.#open.get(host);
    this.#open.delete(host);
    if (kept && !kept.destroyed && kept.writable) {
      const result = await exchange(kept, true, bytes, request, patience);
      // The server may close a connection it kept just as the next request goes out (RFC 9112
      // §9.3.1): nothing of an answer arrived, so the request is sent again on a new one.
      if (result.received > 0 || result.outcome.kind === 'response' || result.outcome.kind === 'timeout')
        return this.#keepOrClose(host, kept, result);
    }
    kept?.destroy();
    const socket = open(url);
    return this.#keepOrClose(host, socket, await exchange(socket, false, bytes, request, patience));
  }

  close(): void {
    for (const socket of this.#open.values()) socket.destroy();
    this.#open.clear();
  }

  #keepOrClose(host: string, socket: Socket, { outcome, reusable }: Exchange): RawOutcome {
    if (reusable) this.#open.set(host, socket);
    else socket.destroy();
    return outcome;
  }
}

function open(url: string): Socket {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname === 'localhost' ? '127.0.0.1' : hostname, port: Number(port) });
  // Errors during an exchange are its outcome; one while the connection waits for the next request closes it.
  socket.on('error', () => {});
  return socket;
}

interface Exchange {
  outcome: RawOutcome;
  /** Bytes of an answer received. */
  received: number;
  /** The answer was complete, nothing followed it, and the server keeps the connection open. */
  reusable: boolean;
}

/** Writes `bytes` on `socket` (once connected) and reads one answer. */
function exchange(socket: Socket, connected: boolean, bytes: Buffer, request: RawRequest, patience: Patience): Promise<Exchange> {
  const reader = new ResponseReader(request.method === 'HEAD');
  const { ms, hung } = typeof patience === 'number' ? { ms: patience, hung: () => true } : patience;
  return new Promise((resolve) => {
    let received = 0;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (outcome: RawOutcome, reusable = false) => {
      settled = true;
      clearTimeout(timer);
      socket.off('connect', send).off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      resolve({ outcome, received, reusable });
    };
    const send = () => {
      socket.write(bytes);
      if (request.truncateAt !== undefined) socket.end();
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      try {
        const response = reader.push(chunk);
        if (response) settle({ kind: 'response', response }, reader.exact && !/\bclose\b/i.test(response.headers.connection ?? ''));
      } catch (error) {
        settle({ kind: 'closed', code: (error as Error).message });
      }
    };
    const onEnd = () => {
      const response = reader.end();
      settle(response ? { kind: 'response', response } : { kind: 'closed', status: reader.status });
    };
    const onError = (error: NodeJS.ErrnoException) => settle({ kind: 'reset', code: error.code, status: reader.status });
    const onClose = () => settle({ kind: 'closed', status: reader.status });
    const waited = () => {
      // Answers that arrived while this thread was busy are read before the judgement (setImmediate runs after I/O).
      setImmediate(() => {
        if (settled) return;
        if (hung()) settle({ kind: 'timeout' });
        else timer = setTimeout(waited, ms);
      });
    };
    timer = setTimeout(waited, ms);
    socket.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
    if (connected) send();
    else socket.once('connect', send);
  });
}

const NO_BODY_STATUSES = new Set([204, 304]);

/** Reads one HTTP/1.1 response (after any 1xx interim ones) from the bytes of a connection. */
class ResponseReader {
  #buffer: Buffer = Buffer.alloc(0);
  #head: { status: number; headers: Record<string, string>; bodyStart: number } | undefined;
  #end = -1;
  readonly #headRequest: boolean;

  constructor(headRequest: boolean) {
    this.#headRequest = headRequest;
  }

  get status(): number | undefined {
    return this.#head?.status;
  }

  /** The response ended where the bytes received did (no bytes of anything after it). */
  get exact(): boolean {
    return this.#end === this.#buffer.length;
  }

  /** The response, once it is complete. */
  push(chunk: Buffer): RawResponse | undefined {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
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
      if (status < 200) {
        // an interim response (100 Continue): the real one follows
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
    const done = (length: number, body = rest.subarray(0, length)) => {
      this.#end = bodyStart + length;
      return { status, headers, body };
    };
    if (this.#headRequest || NO_BODY_STATUSES.has(status)) return done(0);
    if (/\bchunked\b/i.test(headers['transfer-encoding'] ?? '')) {
      const chunked = dechunk(rest);
      return chunked && done(chunked.length, chunked.body);
    }
    if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      return rest.length >= length ? done(length) : undefined;
    }
    return ended ? done(rest.length) : undefined;
  }
}

/** A chunked body (RFC 9112 §7.1) once its last chunk has arrived, and how many bytes it took. */
function dechunk(bytes: Buffer): { body: Buffer; length: number } | undefined {
  const chunks: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(bytes.subarray(at, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) throw new Error('malformed chunked response');
    if (size === 0) {
      // The last chunk, then trailer lines, then an empty line.
      const end = bytes.indexOf('\r\n\r\n', lineEnd);
      return end < 0 ? undefined : { body: Buffer.concat(chunks), length: end + 4 };
    }
    const start = lineEnd + 2;
    if (bytes.length < start + size + 2) return undefined;
    chunks.push(bytes.subarray(start, start + size));
    at = start + size + 2;
  }
}
