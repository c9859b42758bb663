/**
 * The Node.js this package needs: 22.18 is the first 22.x that strips TypeScript types by default
 * (a clone runs its sources) and runs oidc-provider 9. bin/oidc-testbed.js makes the same check in
 * plain JavaScript, before anything that an older Node cannot load.
 */
export const MINIMUM_NODE = '22.18';

/** The one sentence an older Node gets instead of a stack trace, or undefined when `version` suffices. */
export function unsupportedNodeMessage(version: string = process.versions.node): string | undefined {
  const [major, minor] = version.split('.').map(Number);
  const [needMajor, needMinor] = MINIMUM_NODE.split('.').map(Number);
  if (major > needMajor || (major === needMajor && minor >= needMinor)) return undefined;
  return `oidc-testbed needs Node.js ${MINIMUM_NODE} or later (this is ${version}); see README "Quick start"`;
}

const unsupported = unsupportedNodeMessage();
if (unsupported) throw new Error(unsupported);
