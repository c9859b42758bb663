/**
 * Random malformed HTTP requests for one endpoint, drawn from a SeededRandom: wrong methods, broken
 * form and JSON bodies, odd content types and charsets, bodies over the servers' limits, bodies cut
 * short, garbage credentials and DPoP proofs, bad and duplicated headers, random query strings.
 * Known-good values (client ids and secrets, real tokens, redirect URIs, grant types) are mixed in
 * so that requests get past the first checks into the code behind them.
 */
import type { RawRequest } from '../support/raw-http.ts';
import type { SeededRandom } from '../support/seeded-random.ts';

export type BodyKind = 'form' | 'json' | 'none';

/** What an error answer of the endpoint looks like. */
export type ErrorShape =
  /** `{ error, error_description }` JSON (RFC 6749 §5.2, RFC 6750 §3) */
  | 'oauth'
  /** ForgeRock IDM's `{ code, reason, message }`, or an OAuth token error from the guard */
  | 'idm'
  /** a page for a person (HTML) or a redirect */
  | 'page';

export interface FuzzTarget {
  /** Stable name: it seeds the target's own random sequence and selects it in FUZZ_ONLY. */
  name: string;
  /** Absolute URL; `{id}` is replaced by a random path segment. */
  url: string;
  /** The methods the endpoint answers (the others are tried too, less often). */
  methods: readonly string[];
  body: BodyKind;
  errors: ErrorShape;
  /** Parameter (or JSON member) names the endpoint reads. */
  params: readonly string[];
  /** Values of `{id}` that exist. */
  ids?: readonly string[];
}

/** Known-good values the generators mix in. */
export interface Material {
  clients: ReadonlyArray<readonly [id: string, secret: string | undefined]>;
  /** Real access, refresh and ID tokens. */
  tokens: readonly string[];
  /** Redirect URIs, scopes, grant types, response types, resource indicators, user names, … */
  values: readonly string[];
  /** DPoP proofs, valid when made, for some URL and method. */
  dpopProofs: readonly string[];
  /** Cookie headers of live state (an interaction waiting for a login). */
  cookies: readonly string[];
}

export interface BadRequest {
  request: RawRequest;
  /** What the generators chose, for the failure message. */
  traits: string[];
  /** The body is cut short (the client closes its side): the server may close without answering. */
  truncated: boolean;
  /** The message framing is broken (Node's HTTP parser answers 400 and closes, or just closes). */
  brokenFraming: boolean;
  /** The body is larger than any endpoint accepts. */
  oversized: boolean;
  /** The request line or a header is not HTTP/1.1 (Node's parser answers 400 or 431 and closes). */
  malformedHead: boolean;
  /** The method or path is not one the endpoint serves. */
  offRoute: boolean;
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'] as const;
const ODD_METHODS = ['TRACE', 'PROPFIND', 'get', 'G=T', 'SEARCH'];

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const B64URL = `${ALNUM}-_`;
const B64 = `${ALNUM}+/=`;
const PRINTABLE = `${ALNUM} !"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}~`;
const ODD_VALUES = [
  '',
  ' ',
  '%',
  '%%',
  '%ZZ',
  '%E0%A4%A',
  '%00',
  '%C0%AF',
  '%FF%FE',
  '+',
  '&',
  '=',
  '==',
  '[]',
  '{}',
  '[object Object]',
  'null',
  'undefined',
  'true',
  'false',
  '0',
  '-1',
  '1e309',
  '9007199254740993',
  'NaN',
  'Infinity',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  `'"`,
  '\\',
  'é',
  'ü',
  '\u{1F600}',
  '\u0000',
  '\uFFFD',
  '\uD800',
  'a b',
  ' padded ',
  '\r\n',
  'urn:',
  'http://',
  'http://[::1',
  'javascript:alert(1)',
  'urn:ietf:params:oauth:token-type:access_token',
  'urn:ietf:params:oauth:token-type:jwt',
  'urn:ietf:params:oauth:grant-type:device_code',
  'eyJ',
  'a.b.c',
  'a.b.c.d.e',
  '..',
  '.',
  'Bearer',
  'openid',
  'S256',
  'plain',
  'none',
  'code',
  'code id_token',
];
const JUNK_NAMES = ['__proto__', 'constructor', 'toString', 'a[b]', 'a[]', '', ' ', '%', 'é', '\u0000', 'x'.repeat(300)];
const CONTENT_TYPES = {
  form: 'application/x-www-form-urlencoded',
  json: 'application/json',
} as const;
const WRONG_TYPES = [
  'text/plain',
  'application/xml',
  'multipart/form-data; boundary=xyz',
  'multipart/form-data',
  'application/jwt',
  'application/merge-patch+json',
  'application/octet-stream',
  'text/html',
  'application/x-www-form-urlencoded',
  'application/json',
  'application/jose',
  '*/*',
];
const MALFORMED_TYPES = [
  '',
  ';',
  'application/',
  '/json',
  'application/json;',
  'application/json; charset',
  'application/json; =utf-8',
  'json',
  'x-www-form-urlencoded',
  'application/x-www-form-urlencoded;;;',
  'a/b/c',
  '"application/json"',
  'APPLICATION/JSON',
  'application/json,text/plain',
];
const CHARSETS = [
  'utf-8',
  'UTF-8',
  'utf8',
  'latin1',
  'iso-8859-1',
  'us-ascii',
  'utf-16',
  'utf-16le',
  'x-junk',
  '',
  '"utf-8"',
  'utf-8; q=1',
  'ébc',
  'utf-32',
  'binary',
  'base64',
];
const ACCEPTS = [
  'application/json',
  'text/html',
  '*/*',
  'text/html;q=0.1, application/json',
  'application/jwt',
  'image/png',
  'junk',
  '',
  'text/html, application/xhtml+xml, */*;q=0.8',
  ';q=x',
];
const ORIGINS = [
  'http://localhost:3000',
  'http://localhost:5173',
  'null',
  'junk',
  'http://evil.example',
  'http://localhost:3000/',
  'file://',
];
const COOKIE_NAMES = [
  '_session',
  '_session.sig',
  '_session.legacy',
  '_interaction',
  '_interaction.sig',
  '_interaction_resume',
  '_interaction_resume.sig',
  '_state.web-app',
  'koa.sess',
];
const HOSTS = ['', 'evil.example', 'a b', '[::1', 'localhost:99999', 'localhost:', ':80', 'localhost/path', 'xn--', '..', '127.0.0.1'];
const FORWARDED = ['https', 'junk', 'http, https', 'https:', '', 'ftp'];
const FORWARDED_HOSTS = ['evil.example', 'a b', '[::1', '', 'localhost:99999', 'localhost, evil.example', 'éxample', 'host:port'];

/** One random bad request for `target`. */
export function badRequest(random: SeededRandom, target: FuzzTarget, material: Material): BadRequest {
  const traits: string[] = [];
  const method = random.weighted<string>([
    [6, () => random.pick(target.methods)],
    [3, () => random.pick(METHODS)],
    [0.3, () => random.pick(ODD_METHODS)],
  ]);
  const offMethod = !target.methods.includes(method);
  if (offMethod) traits.push(`method ${method}`);

  const path = requestTarget(random, target, material, traits);
  const headers: Array<[string, string | Buffer]> = [];
  const sendsBody = method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS' ? random.chance(0.9) : random.chance(0.1);
  const body = sendsBody ? requestBody(random, target, material, traits) : undefined;
  addContentType(random, target, body !== undefined, headers, traits);
  addCredentials(random, material, headers, traits);
  addOtherHeaders(random, material, headers, traits);
  const framing = frame(random, body?.bytes, headers, traits);
  const request = { method, target: path.bytes, headers, body: framing.body, truncateAt: framing.truncateAt };
  return {
    request,
    traits,
    offRoute: offMethod || path.mutated,
    truncated: framing.truncated ?? false,
    brokenFraming: framing.broken,
    oversized: (body?.bytes.length ?? 0) > LARGEST_BODY,
    malformedHead: malformedHead(request),
  };
}

/** The largest body an endpoint reads: the mock APIs' 64 KiB (the IdP's is 56 KiB). */
const LARGEST_BODY = 64 * 1024;
/** Node's default `maxHeaderSize`. */
const LARGEST_HEAD = 16 * 1024;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** What Node's strict HTTP parser refuses before the app sees the request. */
function malformedHead({ method, target, headers }: RawRequest): boolean {
  const text = (value: string | Buffer) => (typeof value === 'string' ? value : value.toString('latin1'));
  const size = method.length + target.length + headers.reduce((sum, [name, value]) => sum + name.length + value.length + 4, 0);
  return (
    !/^[A-Z]+$/.test(method) ||
    /[\x00-\x20\x7f-\xff]/.test(text(target)) ||
    headers.some(([name, value]) => !TOKEN.test(name) || /[\x00-\x08\x0a-\x1f\x7f]/.test(text(value))) ||
    size > LARGEST_HEAD
  );
}

/** A parameter name: mostly one the endpoint reads. */
function paramName(random: SeededRandom, target: FuzzTarget): string {
  return random.chance(0.8) && target.params.length > 0 ? random.pick(target.params) : random.pick(JUNK_NAMES);
}

// ---- values ---------------------------------------------------------------------------------

/** A value for any parameter: known-good, junk, odd or huge. */
function value(random: SeededRandom, material: Material): string {
  return random.weighted<string>([
    [4, () => random.pick(material.values)],
    [1.5, () => random.pick(material.clients)[0]],
    [2, () => random.string(random.between(1, 40), PRINTABLE)],
    [2.5, () => random.pick(ODD_VALUES)],
    [1.5, () => junkJwt(random)],
    [1, () => random.pick(material.tokens)],
    [0.3, () => random.string(64, ALNUM).repeat(random.between(16, 128))],
    [
      0.5,
      () =>
        `http://${random.pick(['localhost:3000', 'localhost', 'evil.example', '[::1]:1', 'a b', ''])}/${random.string(random.between(0, 10), PRINTABLE)}`,
    ],
    [0.5, () => JSON.stringify(jsonValue(random, material, 2))],
  ]);
}

/** Something shaped like a JWT (or a JWE) that is not a valid one. */
function junkJwt(random: SeededRandom): string {
  const part = (json: unknown) => Buffer.from(JSON.stringify(json)).toString('base64url');
  const header = random.pick<Record<string, unknown>>([
    { alg: 'none' },
    { alg: 'RS256', kid: 'nope' },
    { alg: 'ES256', typ: 'dpop+jwt', jwk: { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' } },
    { alg: 'HS256', typ: 'at+jwt' },
    { alg: 'ES256', typ: 'dpop+jwt' },
    { alg: 'EdDSA', typ: 'dpop+jwt', jwk: { kty: 'OKP', crv: 'Ed25519', x: random.string(43, B64URL) } },
    { alg: 'RSA-OAEP', enc: 'A128GCM' },
    { alg: 'dir', enc: 'A256GCM', zip: 'DEF' },
    {},
    { alg: 'ES256', crit: ['b64'], b64: false },
    { alg: 'ES256', jwk: 'x' },
    { alg: 'ES256', typ: 'dpop+jwt', jwk: { kty: 'RSA', n: random.string(20, B64URL), e: 'AQAB' } },
  ]);
  const now = Math.floor(Date.now() / 1000);
  const payload = random.pick<unknown>([
    {},
    { iss: 'x', aud: 'y', exp: now + 60 },
    { htm: 'POST', htu: 'http://localhost/', iat: now, jti: random.string(8, ALNUM) },
    { sub: 'alice', exp: 'soon' },
    [],
    'text',
    null,
    // biome-ignore lint/correctness/noPrecisionLoss: 1e309 is Infinity on purpose
    { exp: 1e309 },
    { iat: -1, nbf: Number.MAX_SAFE_INTEGER },
  ]);
  const segments = random.chance(0.8)
    ? [part(header), part(payload), random.string(random.between(0, 86), B64URL)]
    : Array.from({ length: random.pick([1, 2, 4, 5, 6]) }, () =>
        random.string(random.between(0, 40), random.chance(0.5) ? B64URL : PRINTABLE),
      );
  return segments.join('.');
}

function jsonValue(random: SeededRandom, material: Material, depth: number): unknown {
  return random.weighted<unknown>([
    [4, () => value(random, material)],
    [1, () => random.pick([0, -1, 1.5, 1e308, -0, 2 ** 53 + 1, 3600])],
    [1, () => random.pick([true, false, null])],
    [depth > 0 ? 1 : 0, () => Array.from({ length: random.between(0, 4) }, () => jsonValue(random, material, depth - 1))],
    [
      depth > 0 ? 1 : 0,
      () =>
        Object.fromEntries(
          Array.from({ length: random.between(0, 4) }, () => [
            random.chance(0.7)
              ? random.pick(['kty', 'kid', 'alg', 'use', 'keys', 'x', 'crv', 'n', 'e', 'operation', 'field', 'value', 'formatted'])
              : random.pick(JUNK_NAMES),
            jsonValue(random, material, depth - 1),
          ]),
        ),
    ],
  ]);
}

/** Form or query encoding of `text`, sometimes broken: raw, bad percent-escapes, non-UTF-8, NUL. */
function encode(random: SeededRandom, text: string, traits: string[]): Buffer {
  return random.weighted<Buffer>([
    [12, () => Buffer.from(encodeURIComponent(text.replace(/[\uD800-\uDFFF]/g, '\uFFFD')))],
    [1, () => Buffer.from(text)],
    [
      1,
      () => {
        traits.push('bad percent-encoding');
        const at = random.below(text.length + 1);
        return Buffer.from(
          `${text.slice(0, at)}${random.pick(['%', '%Z', '%ZZ', '%E0%A4%A', '%C3', '%%', '%0', '%u0041'])}${text.slice(at)}`,
        );
      },
    ],
    [
      1,
      () => {
        traits.push('non-UTF-8 bytes');
        return Buffer.concat([
          Buffer.from(text, 'latin1'),
          Buffer.from(random.pick(['%FF%FE', '%C3%28', '%ED%A0%80', '%F8%88%80%80%80', '%C0%80'])),
          random.bytes(random.between(0, 3)).map((byte) => byte | 0x80),
        ]);
      },
    ],
    [
      0.5,
      () => {
        traits.push('NUL byte');
        return Buffer.from(`${text}${random.pick(['%00', '\0'])}${text}`);
      },
    ],
  ]);
}

/** `name=value&…` with known and junk names, repeated parameters, broken separators. */
function formPairs(random: SeededRandom, target: FuzzTarget, material: Material, count: number, traits: string[]): Buffer {
  const pairs: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const name = paramName(random, target);
    const pair = random.weighted<Buffer>([
      [10, () => Buffer.concat([encode(random, name, traits), Buffer.from('='), encode(random, value(random, material), traits)])],
      [1, () => encode(random, name, traits)],
      [0.5, () => Buffer.from(random.pick(['=', '==', '=x', '&', 'a=b=c']))],
    ]);
    pairs.push(pair);
    if (random.chance(0.08)) {
      traits.push(`repeated ${name.slice(0, 20)}`);
      pairs.push(pair);
    }
  }
  const separator = random.chance(0.95) ? '&' : random.pick(['&&', ';', '&amp;', '\n']);
  return Buffer.from(pairs.map((pair) => pair.toString('latin1')).join(separator), 'latin1');
}

// ---- request parts --------------------------------------------------------------------------

function requestTarget(
  random: SeededRandom,
  target: FuzzTarget,
  material: Material,
  traits: string[],
): { bytes: Buffer; mutated: boolean } {
  const url = new URL(target.url.replace('{id}', '__ID__'));
  let path = url.pathname;
  let offPath = false;
  if (path.includes('__ID__')) {
    const id = random.weighted<string>([
      [4, () => encodeURIComponent(random.pick(target.ids ?? ['x']))],
      [2, () => random.string(random.between(1, 30), B64URL)],
      [
        2,
        () => random.pick(['%', '%E0%A4%A', '%ZZ', '%00', '%C3%A9', '%F0%9F%98%80', '%C0%AF', '%20', '%FF', '*', '~', ':id', '{id}', '"']),
      ],
      // Not one path segment: another path, or none.
      [0.5, () => ((offPath = true), random.pick(['%2F', '..', '%2e%2e', 'a%2Fb', ' ', '', 'a/b']))],
      [0.5, () => random.string(random.between(200, 2000), B64URL)],
    ]);
    traits.push(`id ${id.slice(0, 30)}`);
    path = path.replace('__ID__', id);
  }
  if (random.chance(0.1)) {
    offPath = true;
    const mutated = random.pick([
      `${path}/`,
      path.toUpperCase(),
      `/${path}`,
      `${path}/x`,
      `${path}%2F`,
      `${path};jsessionid=x`,
      `${path}#frag`,
      `${path}/..`,
      path.replace(/\/([^/]*)$/, '/%2e/$1'),
      `${path}%00`,
      `${path}%`,
      `${path}/%ZZ`,
      `${path}\\`,
      `${path}//`,
      `${path}.json`,
    ]);
    traits.push(`path ${mutated}`);
    path = mutated;
  }
  const query = random.chance(target.body === 'none' ? 0.85 : 0.4)
    ? random.chance(0.03)
      ? (traits.push('huge query'), Buffer.from(`a=${random.string(64, ALNUM).repeat(random.pick([100, 300]))}`))
      : formPairs(random, target, material, random.between(1, 8), traits)
    : undefined;
  const bytes = query ? Buffer.concat([Buffer.from(`${path}?`), query]) : Buffer.from(path);
  if (random.chance(0.02)) {
    traits.push('raw byte in the request target');
    return {
      bytes: Buffer.concat([bytes, Buffer.from([random.pick([0x00, 0x09, 0x20, 0x7f, 0x80, 0xe9, 0xff])]), Buffer.from('x')]),
      mutated: offPath,
    };
  }
  return { bytes: requestLineSafe(bytes), mutated: offPath };
}

/**
 * The bytes a request target may hold as they are (Node's parser refuses the request otherwise),
 * the others percent-encoded: broken escapes and odd characters still reach the app.
 */
function requestLineSafe(bytes: Buffer): Buffer {
  if (!bytes.some((byte) => byte <= 0x20 || byte >= 0x7f)) return bytes;
  let safe = '';
  for (const byte of bytes)
    safe += byte <= 0x20 || byte >= 0x7f ? `%${byte.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(byte);
  return Buffer.from(safe, 'latin1');
}

interface Body {
  bytes: Buffer;
  oversized: boolean;
}

function requestBody(random: SeededRandom, target: FuzzTarget, material: Material, traits: string[]): Body {
  if (random.chance(0.05)) {
    // The IdP's limit is 56 KiB (oidc-provider, src/server/form-body.ts), the APIs' 64 KiB, CIBA control's 4 KiB.
    const size = random.weighted<number>([
      [8, () => random.between(57 * 1024, 256 * 1024)],
      [1, () => random.between(1024 * 1024, 2 * 1024 * 1024)],
    ]);
    traits.push(`oversized body ${Math.round(size / 1024)} KiB`);
    const filler = random.string(64, ALNUM).repeat(Math.ceil(size / 64));
    return {
      bytes: Buffer.from(
        target.body === 'json' && random.chance(0.7)
          ? `{"${paramName(random, target)}":"${filler}"}`
          : `${paramName(random, target)}=${filler}`,
      ),
      oversized: true,
    };
  }
  const kind =
    target.body === 'none'
      ? random.pick<BodyKind>(['form', 'json'])
      : random.chance(0.85)
        ? target.body
        : random.pick<BodyKind>(['form', 'json']);
  if (kind !== target.body) traits.push(`${kind} body`);
  if (kind === 'form') return { bytes: formPairs(random, target, material, random.between(0, 10), traits), oversized: false };
  return { bytes: jsonBody(random, target, material, traits), oversized: false };
}

function jsonBody(random: SeededRandom, target: FuzzTarget, material: Material, traits: string[]): Buffer {
  const object = () =>
    Object.fromEntries(Array.from({ length: random.between(0, 8) }, () => [paramName(random, target), jsonValue(random, material, 2)]));
  return random.weighted<Buffer>([
    [6, () => Buffer.from(JSON.stringify(object()))],
    [1, () => Buffer.from(JSON.stringify(Array.from({ length: random.between(0, 3) }, object)))],
    [
      2,
      () => {
        const valid = JSON.stringify(object());
        const broken = random.pick([
          valid.slice(0, random.below(valid.length)),
          `${valid}}`,
          `${valid},`,
          valid.replace(/"/g, "'"),
          `\uFEFF${valid}`,
          valid.replace(/:/, ''),
          '{',
          '}',
          '[',
          '{"a":}',
          '{"a":1,}',
          '{a:1}',
          'undefined',
          'NaN',
          '{"a":NaN}',
          "{'a':1}",
          '{"a":"\\uZZZZ"}',
          '{"a":"\u0000"}',
          '',
        ]);
        traits.push(`malformed JSON ${broken.slice(0, 20)}`);
        return Buffer.from(broken);
      },
    ],
    [1, () => Buffer.from(JSON.stringify(random.pick(['text', 42, null, true, [], 1e308])))],
    [
      0.5,
      () => {
        const depth = random.between(1000, 9000);
        traits.push(`JSON nested ${depth} deep`);
        const name = JSON.stringify(paramName(random, target));
        return Buffer.from(
          random.chance(0.5) ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${`{${name}:`.repeat(depth)}1${'}'.repeat(depth)}`,
        );
      },
    ],
    [
      0.5,
      () => {
        traits.push('non-UTF-8 JSON');
        return Buffer.concat([
          Buffer.from(`{"${paramName(random, target)}":"`),
          random.bytes(random.between(1, 8)).map((byte) => byte | 0x80),
          Buffer.from('"}'),
        ]);
      },
    ],
  ]);
}

function addContentType(
  random: SeededRandom,
  target: FuzzTarget,
  hasBody: boolean,
  headers: Array<[string, string | Buffer]>,
  traits: string[],
): void {
  if (!random.chance(hasBody ? 0.92 : 0.1)) return;
  const own = target.body === 'none' ? CONTENT_TYPES.form : CONTENT_TYPES[target.body];
  const type = random.weighted<string>([
    [7, () => own],
    [2, () => `${own}; charset=${random.pick(CHARSETS)}`],
    [1.5, () => random.pick(WRONG_TYPES)],
    [1, () => random.pick(MALFORMED_TYPES)],
  ]);
  if (type !== own) traits.push(`content-type ${type}`);
  headers.push(['Content-Type', type]);
  if (random.chance(0.02)) {
    traits.push('two content-types');
    headers.push(['Content-Type', random.pick(WRONG_TYPES)]);
  }
}

function addCredentials(random: SeededRandom, material: Material, headers: Array<[string, string | Buffer]>, traits: string[]): void {
  const basic = (text: string | Buffer) => `Basic ${Buffer.from(text).toString('base64')}`;
  if (random.chance(0.5)) {
    const authorization = random.weighted<string | Buffer>([
      [
        3,
        () => {
          const [id, secret] = random.pick(material.clients);
          return basic(`${encodeURIComponent(id)}:${encodeURIComponent(secret ?? '')}`);
        },
      ],
      [1, () => (traits.push('garbage Basic'), `Basic ${random.string(random.between(0, 40), B64)}`)],
      [1, () => (traits.push('Basic without colon'), basic(random.pick(material.clients)[0]))],
      [
        1,
        () => (
          traits.push('Basic with broken escapes'),
          basic(`${random.pick(['%ZZ', 'a%', '%E0%A4%A', '', ':', '%3A'])}:${random.pick(['%ZZ', 'x%', '', ':'])}`)
        ),
      ],
      [
        0.5,
        () => (
          traits.push('Basic with non-UTF-8'),
          basic(Buffer.concat([random.bytes(4).map((byte) => byte | 0x80), Buffer.from(':'), random.bytes(3)]))
        ),
      ],
      [0.5, () => (traits.push('bare scheme'), random.pick(['Basic', 'Basic ', 'Bearer', 'Bearer ', 'DPoP', '', ' ']))],
      [2, () => `Bearer ${random.pick(material.tokens)}`],
      [
        1,
        () => (
          traits.push('garbage Bearer'), `Bearer ${random.chance(0.5) ? junkJwt(random) : random.string(random.between(1, 60), PRINTABLE)}`
        ),
      ],
      [1, () => `DPoP ${random.chance(0.5) ? random.pick(material.tokens) : junkJwt(random)}`],
      [
        0.5,
        () => (
          traits.push('odd scheme'),
          `${random.pick(['Digest', 'Negotiate', 'bearer', 'BASIC', 'Token', 'Bearer  ', 'Bearer\t'])} ${random.string(random.between(0, 30), PRINTABLE)}`
        ),
      ],
      [0.2, () => (traits.push('huge Authorization'), `Bearer ${random.string(64, B64URL).repeat(random.pick([64, 192]))}`)],
    ]);
    headers.push(['Authorization', authorization]);
    if (random.chance(0.04)) {
      traits.push('two Authorization headers');
      headers.push(['Authorization', `Bearer ${random.pick(material.tokens)}`]);
    }
  }
  if (random.chance(0.15)) {
    const proof = random.weighted<string>([
      [2, () => random.pick(material.dpopProofs)],
      [3, () => junkJwt(random)],
      [0.5, () => random.pick(['', ' ', 'null', 'a.b.c', random.string(20, PRINTABLE)])],
    ]);
    traits.push(`DPoP ${proof.slice(0, 16)}`);
    headers.push(['DPoP', proof]);
    if (random.chance(0.1)) {
      traits.push('two DPoP headers');
      headers.push(['DPoP', random.pick(material.dpopProofs)]);
    }
  }
}

function addOtherHeaders(random: SeededRandom, material: Material, headers: Array<[string, string | Buffer]>, traits: string[]): void {
  if (random.chance(0.4)) headers.push(['Accept', random.pick(ACCEPTS)]);
  if (random.chance(0.1)) headers.push(['Origin', random.pick(ORIGINS)]);
  if (random.chance(0.12)) {
    const junk = () =>
      Array.from(
        { length: random.between(1, 4) },
        () =>
          `${random.pick(COOKIE_NAMES)}=${random.pick([random.string(random.between(0, 40), B64URL), '', '%ZZ', '"', junkJwt(random)])}`,
      ).join('; ');
    const cookie = random.weighted<string>([
      [6, junk],
      [2, () => random.pick(material.cookies)],
      [1, () => `${random.pick(material.cookies)}; ${junk()}`],
      [1, () => random.pick(['=;;=', ';', '=', 'a', `${junk()}; ${junk()}`])],
    ]);
    traits.push(`cookie ${cookie.slice(0, 40)}`);
    headers.push(['Cookie', cookie]);
  }
  if (random.chance(0.08)) {
    traits.push('X-Forwarded-*');
    if (random.chance(0.7)) headers.push(['X-Forwarded-Proto', random.pick(FORWARDED)]);
    if (random.chance(0.7)) headers.push(['X-Forwarded-Host', random.pick(FORWARDED_HOSTS)]);
    if (random.chance(0.5)) headers.push(['X-Forwarded-For', random.pick(['1.2.3.4', 'junk', '::1, 10.0.0.1', '', '999.1.1.1'])]);
  }
  if (random.chance(0.04)) {
    const host = random.pick(HOSTS);
    traits.push(`Host "${host}"`);
    headers.unshift(['Host', host]);
    if (random.chance(0.2)) headers.unshift(['Host', 'localhost']);
  }
  if (random.chance(0.03)) {
    const size = random.pick([8000, 15040, 20032, 70016]);
    traits.push(`header of ${size} bytes`);
    headers.push(['X-Junk', random.string(64, ALNUM).repeat(size / 64)]);
  }
  if (random.chance(0.02)) {
    const count = random.pick([100, 500, 2500]);
    traits.push(`${count} extra headers`);
    for (let i = 0; i < count; i++) headers.push([`X-Junk-${i}`, 'x']);
  }
  if (random.chance(0.05)) {
    const bytes = random.pick([
      Buffer.from([0xff, 0xfe, 0xe9]),
      Buffer.from('a\0b'),
      Buffer.from('a\x01\x7fb'),
      Buffer.from('a\rb'),
      Buffer.from('\t x \t'),
    ]);
    traits.push(`odd header bytes ${bytes.toString('hex')}`);
    headers.push([random.pick(['X-Junk', 'Accept', 'User-Agent', 'Origin', 'Authorization', 'Accept-Language', 'Cookie']), bytes]);
  }
  if (random.chance(0.02)) {
    traits.push('odd header name');
    headers.push([random.pick(['X Junk', 'X-Junk:', '', 'Ünicode', '(x)']), 'x']);
  }
  if (random.chance(0.03)) headers.push(['Expect', random.pick(['100-continue', 'junk'])]);
  if (random.chance(0.03)) headers.push(['Accept-Language', random.pick(['*', 'xx', 'en-US;q=x', ',,,', 'de, en;q=0.5'])]);
}

interface Framing {
  body?: Buffer;
  truncateAt?: number;
  truncated?: boolean;
  broken: boolean;
}

/** Content-Length or chunked framing for `body`: right, cut short, inconsistent or malformed. */
function frame(random: SeededRandom, body: Buffer | undefined, headers: Array<[string, string | Buffer]>, traits: string[]): Framing {
  const bytes = body ?? Buffer.alloc(0);
  const framing = random.weighted<Framing>([
    [
      84,
      () => {
        if (body !== undefined || random.chance(0.1)) headers.push(['Content-Length', String(bytes.length)]);
        return { body, broken: false };
      },
    ],
    [
      7,
      () => {
        const sent = random.below(bytes.length + 1);
        const declared = sent === bytes.length ? bytes.length + random.between(1, 1000) : bytes.length;
        traits.push(`truncated: ${sent} of ${declared} bytes sent`);
        headers.push(['Content-Length', String(declared)]);
        return { body: bytes, truncateAt: sent, truncated: true, broken: false };
      },
    ],
    [
      2,
      () => {
        traits.push('Content-Length shorter than the body');
        headers.push(['Content-Length', String(random.below(bytes.length + 1))]);
        return { body: bytes, broken: true };
      },
    ],
    [
      1,
      () => {
        traits.push('body without Content-Length');
        return { body: bytes, broken: true };
      },
    ],
    [
      3,
      () => {
        traits.push('chunked');
        headers.push(['Transfer-Encoding', 'chunked']);
        const split = random.below(bytes.length + 1);
        const chunk = (part: Buffer) => (part.length ? [Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')] : []);
        return {
          body: Buffer.concat([...chunk(bytes.subarray(0, split)), ...chunk(bytes.subarray(split)), Buffer.from('0\r\n\r\n')]),
          broken: false,
        };
      },
    ],
    [
      1,
      () => {
        const broken = random.pick([
          'zz\r\nab\r\n0\r\n\r\n',
          '5\r\nab\r\n0\r\n\r\n',
          '-1\r\n',
          'ffffffffffffffff\r\nx',
          '2\r\nabc\r\n0\r\n\r\n',
          '0\r\n',
        ]);
        traits.push(`malformed chunks ${JSON.stringify(broken.slice(0, 12))}`);
        headers.push([
          'Transfer-Encoding',
          random.pick(['chunked', 'chunked, gzip', 'gzip, chunked', 'identity', 'CHUNKED', 'chunked ', 'xchunked']),
        ]);
        return { body: Buffer.from(broken), broken: true };
      },
    ],
    [
      1,
      () => {
        const length = random.pick(['-1', 'abc', '1, 2', '0x10', ' 5', '99999999999999999999', '1e3', '']);
        traits.push(`Content-Length "${length}"`);
        headers.push(['Content-Length', length]);
        if (random.chance(0.3)) headers.push(['Transfer-Encoding', 'chunked']);
        if (random.chance(0.3)) headers.push(['Content-Length', String(bytes.length)]);
        return { body: bytes, broken: true };
      },
    ],
  ]);
  // A message whose end the server cannot find waits for more bytes: the client closes its side.
  return framing.broken ? { ...framing, truncateAt: framing.body?.length ?? 0 } : framing;
}
