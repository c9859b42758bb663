#!/usr/bin/env bash
# What `npm test` needs on a Debian or Ubuntu machine, installed once (as root, or with sudo):
# Node.js 24 from the npm registry's Node binaries (at $NODE_PREFIX/bin, beside any Node the machine
# has), Chromium for the page tests, Redis, iproute2 (the control-lock test's network namespace) and
# wrk (the benchmark smoke test); then Redis is started on 127.0.0.1:6379 if nothing answers there.
# Afterwards: export PATH=$NODE_PREFIX/bin:$PATH (default /opt/node24/bin).
set -euo pipefail
NODE_PREFIX=${NODE_PREFIX:-/opt/node24}
sudo=()
[ "$(id -u)" = 0 ] || sudo=(sudo)

node_ok() {
  [ -x "$NODE_PREFIX/bin/node" ] && "$NODE_PREFIX/bin/node" -e '
    const [major, minor] = process.versions.node.split(".").map(Number);
    process.exit(major > 22 || (major === 22 && minor >= 18) ? 0 : 1)'
}
if ! node_ok; then
  echo "== Node.js 24 (npm install -g --prefix $NODE_PREFIX node@24)"
  "${sudo[@]}" npm install --global --prefix "$NODE_PREFIX" --no-fund --no-audit --loglevel=error node@24
fi
echo "Node.js $("$NODE_PREFIX/bin/node" --version) at $NODE_PREFIX/bin"

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v ip >/dev/null || missing+=(iproute2)
command -v wrk >/dev/null || missing+=(wrk)
if [ ${#missing[@]} -gt 0 ]; then
  echo "== Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "== Redis on 127.0.0.1:6379"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no
fi
