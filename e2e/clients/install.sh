#!/usr/bin/env bash
# Installs the real clients the end-to-end tests drive (Claude Code, Codex CLI), exactly as
# pinned in package-lock.json, into e2e/clients/node_modules. Quick when nothing changed: a
# stamp holding the lockfile's hash skips `npm ci` while the installed binaries still answer
# --version. Retries `npm ci` on a flaky registry, then checks that each binary runs.
set -euo pipefail
cd "$(dirname "$0")"

stamp=node_modules/.llmrouter-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)

clients_run() {
  ./node_modules/.bin/claude --version >/dev/null 2>&1 &&
    ./node_modules/.bin/codex --version >/dev/null 2>&1
}

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && clients_run; then
  echo "e2e clients: up to date ($(./node_modules/.bin/claude --version); $(./node_modules/.bin/codex --version))"
  exit 0
fi

for try in 1 2 3; do
  # --prefer-offline: reuse the npm cache without revalidating (integrity is still checked
  # against the lockfile). Claude Code's postinstall links its native binary into place.
  if npm ci --no-audit --no-fund --prefer-offline --loglevel=error; then
    break
  fi
  if [ "$try" = 3 ]; then
    echo "e2e clients: npm ci failed 3 times" >&2
    exit 1
  fi
  echo "e2e clients: npm ci failed (try $try), retrying" >&2
  sleep $((try * 5))
done

if ! clients_run; then
  echo "e2e clients: installed, but claude or codex does not run:" >&2
  ./node_modules/.bin/claude --version >&2 || true
  ./node_modules/.bin/codex --version >&2 || true
  exit 1
fi
echo "$want" >"$stamp"
echo "e2e clients: installed ($(./node_modules/.bin/claude --version); $(./node_modules/.bin/codex --version))"
