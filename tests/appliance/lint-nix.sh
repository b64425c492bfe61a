#!/usr/bin/env bash
# Nix files: every one parses (`nix-instantiate --parse`), and none has dead code
# (deadnix) or a statix lint. A missing tool is skipped with the reason, except in CI,
# which installs them (.ci/run) — all but statix, which no registry here carries.
set -euo pipefail
cd "$(dirname "$0")/../.."

mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.nix')
[ ${#files[@]} -gt 0 ] || { echo "no .nix files"; exit 0; }
status=0

missing() {
  if [ "${CI:-}" = true ] && [ "$1" != statix ]; then
    echo "$1 is missing ($2)" >&2; status=1
  else
    echo "nix lint: $1 skipped: not installed ($2)"
  fi
}

if command -v nix-instantiate >/dev/null; then
  for f in "${files[@]}"; do
    nix-instantiate --parse "$f" >/dev/null || { echo "does not parse: $f" >&2; status=1; }
  done
  [ $status = 0 ] && echo "nix-instantiate --parse: ${#files[@]} files parse"
else
  missing nix-instantiate "apt-get install nix-bin"
fi

if command -v deadnix >/dev/null; then
  deadnix --fail "${files[@]}" && echo "deadnix: clean" || status=1
else
  missing deadnix "cargo install --locked deadnix@1.3.1"
fi

# The statix on crates.io is an unrelated HTTP server: only the Nix linter will do.
if command -v statix >/dev/null && statix --help 2>&1 | grep -q "Lints and suggestions for the Nix"; then
  for f in "${files[@]}"; do statix check "$f" || status=1; done
  [ $status = 0 ] && echo "statix: clean"
else
  missing statix "from nixpkgs: nix profile install nixpkgs#statix; not on crates.io"
fi
exit $status
