#!/usr/bin/env bash
# Installs the project the way a newcomer does: a clean clone of HEAD, the
# machine's own npm, an empty cache. `npm ci --dry-run` resolves the whole tree
# from the lockfile, so a lockfile that npm rejects fails here in seconds.
# Uncommitted package.json/package-lock.json are copied in, so the check also
# catches a break before it is committed. Engine warnings fail it too: the
# install must be quiet on every supported Node.
set -euo pipefail
root=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
work=$(mktemp -d "${TMPDIR:-/tmp}/idgraph-install-XXXXXX")
trap 'rm -rf "$work"' EXIT

git clone -q --no-hardlinks "$root" "$work/clone"
cp "$root/package.json" "$root/package-lock.json" "$work/clone/"
cd "$work/clone"

node "$root/scripts/check-lockfile.js" package-lock.json
if ! npm ci --dry-run --no-audit --no-fund --cache "$work/cache" >"$work/npm.log" 2>&1; then
  cat "$work/npm.log" >&2
  echo "check:install: npm $(npm --version) rejects package-lock.json on a clean clone (see above)" >&2
  exit 1
fi
if grep -q 'EBADENGINE' "$work/npm.log"; then
  grep -A4 'EBADENGINE' "$work/npm.log" >&2
  echo "check:install: a package declares an engine this Node ($(node --version)) does not meet" >&2
  exit 1
fi
echo "check:install: npm $(npm --version) on Node $(node --version) installs HEAD from an empty cache"
