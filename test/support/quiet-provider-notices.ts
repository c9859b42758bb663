// oidc-provider prints development NOTICE/WARNING lines (e.g. the Node runtime notice) through
// console.info / console.warn; they are noise in test output.
const PREFIXES = ['oidc-provider NOTICE:', 'oidc-provider WARNING:'];
for (const method of ['info', 'warn'] as const) {
  const original = console[method].bind(console);
  console[method] = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && PREFIXES.some((prefix) => (args[0] as string).includes(prefix))) return;
    original(...args);
  };
}
