#!/usr/bin/env bash
# Installs code-server (a real VS Code host: VS Code 1.100.3 with a Node extension host) into
# .ci/cache/code-server, for the integration and e2e suites. Idempotent: does nothing when the pinned
# version is already there. Needs, once, the system packages .ci/run installs:
#   libkrb5-dev libxkbfile-dev libsecret-1-dev ripgrep
# code-server's dependency @vscode/ripgrep downloads rg from GitHub at install time; that download is
# satisfied from its cache folder, seeded here with Debian's own rg, so the install works offline.
#   bash scripts/install-code-server.sh        -> prints the path of the code-server launcher
set -euo pipefail
VERSION=4.100.3
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/.ci/cache/code-server"
bin="$dest/node_modules/code-server/out/node/entry.js"
stamp="$dest/.installed-$VERSION"

if [ -f "$stamp" ] && [ -f "$bin" ]; then
  echo "$dest/node_modules/.bin/code-server"
  exit 0
fi

for p in rg; do
  command -v "$p" >/dev/null || { echo "install-code-server: '$p' not found; install Debian's ripgrep first" >&2; exit 1; }
done

mkdir -p "$dest"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Pre-seed @vscode/ripgrep's download cache (it looks in $TMPDIR/vscode-ripgrep-cache-<its version>/).
export TMPDIR="$work/tmp"
mkdir -p "$TMPDIR/vscode-ripgrep-cache-1.15.11" "$work/rg"
cp "$(command -v rg)" "$work/rg/rg"
tar -C "$work/rg" -czf "$TMPDIR/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" rg

export npm_config_unsafe_perm=true npm_config_yes=true npm_config_fund=false npm_config_audit=false
cd "$dest"
[ -f package.json ] || echo '{ "name": "ridgeline-code-server", "private": true }' > package.json
# Scripts must run here (code-server's postinstall builds its native modules), whatever the project's .npmrc says.
npm pack "code-server@$VERSION" --pack-destination "$work" --loglevel=error >/dev/null
npm i "$work/code-server-$VERSION.tgz" --foreground-scripts --ignore-scripts=false --no-package-lock >"$work/npm.log" 2>&1 || {
  tail -n 40 "$work/npm.log" >&2
  echo "install-code-server: npm install of code-server@$VERSION failed (log above)" >&2
  exit 1
}
[ -f "$bin" ] || { echo "install-code-server: $bin missing after install" >&2; exit 1; }
touch "$stamp"
echo "$dest/node_modules/.bin/code-server"
