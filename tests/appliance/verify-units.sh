#!/usr/bin/env bash
# `systemd-analyze verify` on every unit in systemd/, failing on any warning (it exits 0
# after printing one). The units are checked in a scratch root holding the distribution's
# units and stand-ins for the binaries at the paths the units name.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v systemd-analyze >/dev/null; then
  [ "${CI:-}" = true ] && { echo "systemd-analyze is missing" >&2; exit 1; }
  echo "unit lint skipped: systemd-analyze missing (apt-get install systemd)"; exit 0
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/lib/systemd" "$root/etc/systemd/system"
cp -a /usr/lib/systemd/system "$root/usr/lib/systemd/"
units=()
for unit in systemd/*.service; do
  cp "$unit" "$root/etc/systemd/system/"
  units+=("$(basename "$unit")")
  # Stand-ins for the programs the unit runs.
  while read -r program; do
    install -D -m 0755 /dev/null "$root$program"
  done < <(sed -n 's/^Exec[A-Za-z]*=[-+!@:]*\([^ ]*\).*/\1/p' "$unit")
done

out=$(systemd-analyze verify --root="$root" "${units[@]}" 2>&1) || { echo "$out"; exit 1; }
if [ -n "$out" ]; then
  echo "$out"
  echo "systemd-analyze verify: warnings in ${units[*]}" >&2
  exit 1
fi
echo "systemd-analyze verify: ${units[*]} clean"
systemd-analyze security --offline=true --root="$root" "${units[@]}" 2>/dev/null |
  sed -n 's/^→ Overall exposure level for /systemd-analyze security: /p'

