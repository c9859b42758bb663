/**
 * RFC 8414 §3: the metadata of an issuer with a path lives at
 * `/.well-known/oauth-authorization-server<path>`; oidc-provider, mounted at `<path>`, serves it at
 * `<path>/.well-known/oauth-authorization-server`.
 */
export function authorizationServerMetadataOfPaths(isIssuerPath: (path: string) => boolean): (path: string) => string {
  const WELL_KNOWN = '/.well-known/oauth-authorization-server';
  return function metadataOfPath(path) {
    if (path.startsWith(`${WELL_KNOWN}/`) && isIssuerPath(path.slice(WELL_KNOWN.length))) {
      return `${path.slice(WELL_KNOWN.length)}${WELL_KNOWN}`;
    }
    return path;
  };
}
