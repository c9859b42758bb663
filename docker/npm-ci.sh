#!/bin/sh
# `npm ci` with the locked versions. A registry mirror that serves only this platform's packages
# yields a lock file without the other platforms' optional binaries (jest's @unrs/resolver-binding-*),
# which `npm ci` refuses as out of sync; `npm install` then installs the same locked versions.
set -e
if ! npm ci --no-audit --no-fund "$@" 2>/tmp/npm-ci.err; then
  grep -q 'can only install packages when your package.json and package-lock.json' /tmp/npm-ci.err || { cat /tmp/npm-ci.err >&2; exit 1; }
  echo "npm ci: the lock file lacks other platforms' optional packages; installing the locked versions with npm install" >&2
  npm install --no-audit --no-fund --no-save "$@"
fi
rm -f /tmp/npm-ci.err
