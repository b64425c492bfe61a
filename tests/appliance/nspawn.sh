#!/usr/bin/env bash
# The appliance under real systemd: a Debian 12 container (systemd-nspawn) with Leaf
# installed from systemd/ as README "Installing on Debian" says, booted twice.
# Shows: first boot creates the signing key once (0600), the service becomes active
# through READY=1, a stopped leaf is killed by the watchdog and restarted, data and the
# key survive the restart and a reboot, and the kiosk URL serves the display page.
#
# Needs root, systemd-nspawn and debootstrap; skips with the reason otherwise.
# LEAF (default target/debug/leaf) and NATS_SERVER (tools/nats-server/bin/nats-server)
# name the binaries to install. KEEP=1 keeps the container's files for a look.
set -euo pipefail
cd "$(dirname "$0")/../.."

# CI must run it: there a missing requirement is a failure, not a skip.
skip() {
  if [ "${CI:-}" = true ]; then echo "appliance test cannot run: $*" >&2; exit 1; fi
  echo "appliance test skipped: $*"; exit 0
}
[ "$(id -u)" = 0 ] || skip "needs root (systemd-nspawn)"
command -v systemd-nspawn >/dev/null || skip "systemd-nspawn missing (apt-get install systemd-container)"
command -v debootstrap >/dev/null || skip "debootstrap missing (apt-get install debootstrap)"

LEAF=${LEAF:-target/debug/leaf}
NATS_SERVER=${NATS_SERVER:-tools/nats-server/bin/nats-server}
for f in "$LEAF" "$NATS_SERVER"; do
  [ -x "$f" ] || { echo "$f is missing: run make build nats-server" >&2; exit 1; }
done

tarball=$(tests/appliance/rootfs.sh)
work=$(mktemp -d "$PWD/target/appliance.XXXXXX")
root=$work/root
nspawn_pid=
leader=

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "  ok   $*"; }
bad() { failed=$((failed + 1)); echo "  FAIL $*"; }
# check DESCRIPTION COMMAND...: one numbered check.
check() { local what=$1; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
now() { date +%s.%N; }
# within SECONDS COMMAND...: runs COMMAND until it succeeds, for SECONDS at most.
within() {
  local end=$((SECONDS + $1)); shift
  until "$@"; do [ "$SECONDS" -lt "$end" ] || return 1; sleep 0.2; done
}
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# A command inside the container (all its namespaces), bounded.
inside() { timeout 30 nsenter -t "$leader" -a "$@"; }
unit() { inside systemctl show -p "$2" --value "$1"; }
http() { inside curl -sS --max-time 3 "$@"; }
# json EXPR: EXPR of the JSON document `d` on stdin; nothing if it is not JSON.
json() { python3 -c "import json,sys
try: d = json.load(sys.stdin)
except ValueError: sys.exit()
print($1)"; }

stop_container() {
  [ -n "$nspawn_pid" ] || return 0
  if kill -0 "$nspawn_pid" 2>/dev/null; then
    kill -TERM "$nspawn_pid" 2>/dev/null || true # nspawn powers the container off
    for _ in $(seq 100); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$nspawn_pid" 2>/dev/null || true
  fi
  wait "$nspawn_pid" 2>/dev/null || true
  nspawn_pid=
}
cleanup() {
  stop_container
  if [ "${KEEP:-}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- install, as README "Installing on Debian" does on a real box -------------------
mkdir -p "$root"
tar --numeric-owner -C "$root" -xf "$tarball"
install -D -m 0755 "$LEAF" "$root/usr/local/bin/leaf"
install -D -m 0755 "$NATS_SERVER" "$root/usr/local/lib/leaf/nats-server"
install -D -m 0644 systemd/leaf.service "$root/etc/systemd/system/leaf.service"
install -D -m 0644 systemd/leaf-provision.service "$root/etc/systemd/system/leaf-provision.service"
install -D -m 0644 systemd/leaf.sysusers "$root/etc/sysusers.d/leaf.conf"
install -D -m 0644 systemd/leaf.toml "$root/etc/leaf/leaf.toml"
systemd-sysusers --root="$root" >/dev/null
systemctl --root="$root" enable leaf.service 2>/dev/null

# --- boot --------------------------------------------------------------------------
boots=0
boot() {
  boots=$((boots + 1))
  boot_started=$(now)
  systemd-nspawn -q -D "$root" --boot --register=no --keep-unit --private-network \
    --hostname=leaf >"$work/console-$boots.log" 2>&1 &
  nspawn_pid=$!
  leader=
  within 10 find_leader || { cat "$work/console-$boots.log"; echo "container did not start" >&2; exit 1; }
  within 60 active leaf.service || true # the checks say what is wrong
}
find_leader() { leader=$(pgrep -P "$nspawn_pid" -x systemd) && [ -n "$leader" ]; }
active() { [ "$(unit "$1" ActiveState 2>/dev/null)" = active ]; }

# Seconds between two of a unit's monotonic timestamps.
span() {
  local a b
  a=$(unit "$1" "$2"); b=$(unit "$1" "$3")
  awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", (b - a) / 1e6 }'
}

healthy() { [ "$(http http://127.0.0.1/api/health | json 'd["status"]')" = ok ]; }
wait_healthy() { within 20 healthy 2>/dev/null; }
key_facts() { inside stat -c '%a %U %s' /var/lib/leaf/secrets/jwt.key; }
key_hash() { inside sha256sum /var/lib/leaf/secrets/jwt.key | cut -d' ' -f1; }
audit_count() {
  http http://127.0.0.1/api/health |
    json 'sum(s["messages"] for s in d["nats"]["streams"] if s["name"] == "AUDIT")'
}

echo "== first boot"
boot
check "leaf.service is active (Type=notify: READY=1 received) after $(since "$boot_started") s of container boot" \
  test "$(unit leaf.service ActiveState)" = active
echo "       leaf start → READY=1: $(span leaf.service ExecMainStartTimestampMonotonic ActiveEnterTimestampMonotonic) s; status: $(unit leaf.service StatusText)"
check "leaf-provision.service ran (its condition held) and succeeded" \
  test "$(unit leaf-provision.service ConditionResult)/$(unit leaf-provision.service Result)" = yes/success
check "leaf provision created the key" \
  grep -q "created /var/lib/leaf/secrets/jwt.key" <(inside journalctl -q -u leaf-provision.service)
facts=$(key_facts)
check "the key is mode 600, owned by leaf, 64 bytes ($facts)" test "$facts" = "600 leaf 64"
key1=$(key_hash)
check "leaf pings the watchdog (WatchdogUSec=$(unit leaf.service WatchdogUSec))" \
  grep -q "systemd watchdog enabled" <(inside journalctl -q -u leaf.service)
check "GET /api/health is ok" wait_healthy
check "the kiosk URL http://127.0.0.1/display answers 200 text/html" \
  test "$(http -o /dev/null -w '%{http_code} %{content_type}' http://127.0.0.1/display)" = "200 text/html; charset=utf-8"
check "the display page is the web app" grep -q '<html' <(http http://127.0.0.1/display)
setup=$(http http://127.0.0.1/api/setup || true)
code=$(json 'd["code"] or ""' <<<"$setup")
check "the kiosk (loopback) sees the first-boot setup code ($code)" test -n "$code"
answer=$(http -w '\n%{http_code}' -H 'content-type: application/json' \
  -d "{\"code\":\"$code\",\"name\":\"Ada\",\"pin\":\"246810\"}" http://127.0.0.1/api/setup || true)
check "setup creates the first admin (a record in /var/lib/leaf)" test "${answer##*$'\n'}" = 201
token=$(json 'd["token"]' <<<"${answer%$'\n'*}")
check "setup is no longer needed" test "$(http http://127.0.0.1/api/setup | json 'd["needed"]')" = False
within 5 test "$(audit_count)" -gt 0 || true
audit1=$(audit_count)
check "the setup event reached JetStream (AUDIT holds $audit1)" test "$audit1" -gt 0

# A tournament clock running through everything below: after each restart it must be
# exactly where the room is (the same level_ends_at: the game did not stop).
staff() { http -H "authorization: Bearer $token" -H 'content-type: application/json' "$@"; }
setup_body=$(staff http://127.0.0.1/api/templates | json 'json.dumps({"name": "Wall clock",
  "structure": next(t["body"] for t in d if t["id"] == "builtin:turbo"),
  "chip_set": next(t["body"] for t in d if t["id"] == "builtin:standard-chips"),
  "buy_in": next(t["body"] for t in d if t["id"] == "builtin:turbo-buy-in")})')
tid=$(staff -d "$setup_body" http://127.0.0.1/api/tournaments | json 'd["id"]')
ends=$(staff -d '{"command":{"type":"start"}}' "http://127.0.0.1/api/tournaments/$tid/commands" \
  | json 'd["clock"]["level_ends_at"]')
check "a tournament clock runs (level 1 ends at $ends)" test -n "$ends"
# clock_right: running, level 1, and its end within 100 ms of the original.
clock_right() {
  local off
  off=$(http "http://127.0.0.1/api/tournaments/$tid" \
    | json 'abs(d["clock"]["level_ends_at"] - '"${ends:-0}"') if d["clock"]["running"] and d["clock"]["level"] == 0 else 10**9')
  echo "       the level ends at the same instant, off by ${off:-?} ms"
  [ -n "$off" ] && [ "$off" -le 100 ]
}

echo "== watchdog: kill -STOP leaf"
pid=$(unit leaf.service MainPID || true)
restarts=$(unit leaf.service NRestarts || true)
stopped_at=$(now)
inside sh -c "kill -STOP $pid"
restarted() {
  local new
  new=$(unit leaf.service MainPID) && [ "$new" != "$pid" ] && [ "$new" != 0 ] && active leaf.service
}
within 40 restarted || true
took=$(since "$stopped_at")
check "systemd killed leaf on the watchdog" \
  grep -q "leaf.service: Watchdog timeout" <(inside journalctl -q -u leaf.service)
check "and restarted it: active again ${took} s after SIGSTOP (NRestarts $restarts → $(unit leaf.service NRestarts))" \
  test "$(unit leaf.service ActiveState)/$(unit leaf.service NRestarts)" = "active/$((restarts + 1))"
echo "       restarted leaf start → READY=1: $(span leaf.service ExecMainStartTimestampMonotonic ActiveEnterTimestampMonotonic) s"
check "health is ok again" wait_healthy
check "one nats-server runs (the old one died with leaf)" \
  test "$(inside pidof nats-server | wc -w)" = 1
check "the key is unchanged" test "$(key_hash)" = "$key1"
check "the admin is still there" test "$(http http://127.0.0.1/api/setup | json 'd["needed"]')" = False
check "the tournament clock is where the room is after the watchdog restart" clock_right

echo "== reboot"
rebooted_at=$(now)
inside systemctl reboot 2>/dev/null || true # the connection drops as it goes down
within 30 bash -c "! kill -0 $nspawn_pid 2>/dev/null" || true
exit_code=0
kill -0 "$nspawn_pid" 2>/dev/null || wait "$nspawn_pid" || exit_code=$?
# systemd-nspawn exits with 133 when the container rebooted.
check "the container shut down cleanly for the reboot in $(since "$rebooted_at") s (exit $exit_code)" \
  test "$exit_code" = 133
stop_container
boot
check "leaf.service is active after $(since "$boot_started") s of container boot" \
  test "$(unit leaf.service ActiveState)" = active
echo "       leaf start → READY=1: $(span leaf.service ExecMainStartTimestampMonotonic ActiveEnterTimestampMonotonic) s"
check "leaf-provision.service was skipped (the key exists)" \
  test "$(unit leaf-provision.service ConditionResult)" = no
facts=$(key_facts)
check "the key is the same, still 600 ($facts)" \
  test "$(key_hash) $facts" = "$key1 600 leaf 64"
check "health is ok" wait_healthy
check "the admin survived the reboot" test "$(http http://127.0.0.1/api/setup | json 'd["needed"]')" = False
check "the kiosk no longer sees a setup code" test "$(http http://127.0.0.1/api/setup | json 'd["code"]')" = None
check "JetStream kept its events (AUDIT holds $(audit_count), had $audit1)" test "$(audit_count)" -ge "$audit1"
check "the tournament clock is where the room is after the reboot" clock_right

echo "== stop"
stopped_at=$(now)
inside systemctl stop leaf.service
check "systemctl stop leaf took $(since "$stopped_at") s and left no nats-server" \
  test -z "$(inside pidof nats-server)"

if [ "$failed" -gt 0 ]; then
  echo "--- journal of leaf.service (last boot)"
  inside journalctl -q -b -u leaf.service -u leaf-provision.service --no-pager | tail -40 || true
fi
echo "appliance: $passed passed, $failed failed"
[ "$failed" = 0 ]
