#!/usr/bin/env bash
# `leaf check-config` accepts the appliance's settings file and rejects bad ones with
# the line and column, as the NixOS module relies on at build time.
set -euo pipefail
cd "$(dirname "$0")/../.."
LEAF=${LEAF:-target/debug/leaf}

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "  ok   $*"; }
bad() { failed=$((failed + 1)); echo "  FAIL $*"; }

if out=$("$LEAF" check-config systemd/leaf.toml 2>&1); then
  ok "systemd/leaf.toml: $out"
else
  bad "systemd/leaf.toml rejected: $out"
fi

for f in tests/appliance/bad-settings/*.toml; do
  expect=$(sed -n 's/^# expect: //p' "$f")
  if out=$("$LEAF" check-config "$f" 2>&1); then
    bad "$f accepted"
  elif grep -qF "$expect" <<<"$out"; then
    ok "$f rejected: $(head -1 <<<"$out")"
  else
    bad "$f rejected without \"$expect\": $out"
  fi
done
echo "check-config: $passed passed, $failed failed"
[ "$failed" = 0 ]
