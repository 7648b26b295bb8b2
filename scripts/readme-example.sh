#!/usr/bin/env bash
# Runs the README's worked example, as written, against `npm start` on a fresh
# embedded database, and checks what each step answers.
set -euo pipefail
cd "$(dirname "$0")/.."

data_dir=$(mktemp -d /tmp/idgraph-readme-XXXXXX)
log="$data_dir/server.log"
# Its own process group, so that stopping it reaches node behind npm (npm does not pass SIGTERM on).
PORT=4000 IDGRAPH_DATA_DIR="$data_dir" setsid npm start >"$log" 2>&1 &
server=$!
cleanup() {
  kill -TERM -- "-$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  for _ in $(seq 1 20); do pgrep -f "postgres -D $data_dir" >/dev/null || break; sleep 0.5; done
  rm -rf "$data_dir"
}
trap cleanup EXIT

for _ in $(seq 1 120); do
  curl -fs http://localhost:4000/healthz >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$log"; echo "readme-example: the server exited" >&2; exit 1; }
  sleep 0.5
done

# The ```sh blocks of the "A worked example" section, in order.
example=$(awk '/^## A worked example/{on=1; next} /^## /{on=0} on && /^```sh$/{block=1; next} on && /^```$/{block=0; print ""; next} on && block' README.md)
output=$(bash -euo pipefail -c "$example")
printf '%s\n' "$output"

expect() {
  grep -q -- "$1" <<<"$output" || { echo "readme-example: expected $1 in the output" >&2; exit 1; }
}
expect '"userKey":"'
expect '"credential":"USER_KEY"'
expect '"email":"grace@example.com"'
expect '"viewerRole":"OWNER"'
expect '"slug":"acme"'
if grep -q '"errors"' <<<"$output"; then
  echo "readme-example: a step answered with errors" >&2
  exit 1
fi
echo "readme-example: every step answered as the README says"
