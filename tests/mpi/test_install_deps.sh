#!/usr/bin/env bash
# scripts/install-deps.sh waits for a held package lock instead of failing: apt-get and
# dpkg-query are replaced by stand-ins on PATH (nothing is installed): dpkg-query reports
# every package missing, apt-get fails at once when the dpkg lock is "held" (a marker file)
# unless it was given DPkg::Lock::Timeout, as the real one does, and then waits for the
# marker to go, as the real one does.
. "$(dirname "$0")/common.sh"
SCRIPT=$(cd "$(dirname "$0")/../.." && pwd)/scripts/install-deps.sh
mkdir -p "$WORK/bin"
cat >"$WORK/bin/dpkg-query" <<'SH'
#!/bin/sh
echo "unknown ok not-installed"
SH
cat >"$WORK/bin/apt-get" <<'SH'
#!/bin/bash
echo "apt-get $*" >>"$STUB_LOG"
timeout=0
while [ $# -gt 0 ]; do
  [ "$1" = -o ] && case $2 in DPkg::Lock::Timeout=*) timeout=${2#*=} ;; esac
  shift
done
waited=0
while [ -e "$STUB_LOCK" ]; do
  if [ "$waited" -ge "$timeout" ]; then
    echo "E: Could not get lock /var/lib/dpkg/lock-frontend" >&2
    exit 100
  fi
  sleep 1
  waited=$((waited + 1))
done
exit 0
SH
chmod +x "$WORK/bin/dpkg-query" "$WORK/bin/apt-get"
export STUB_LOG="$WORK/apt.log" STUB_LOCK="$WORK/lock"

# The lock is held for 3 s: the script waits and succeeds.
touch "$STUB_LOCK"
(sleep 3; rm -f "$STUB_LOCK") &
expect_status 0 "install-deps waits for a held lock" env PATH="$WORK/bin:$PATH" bash "$SCRIPT"
wait
expect_output "waiting up to 600s for a held package lock" "install-deps says it waits"
if [ "$(grep -c 'DPkg::Lock::Timeout=600' "$STUB_LOG")" = 2 ]; then pass "update and install both wait";
else fail "apt-get calls without the lock timeout:"; cat "$STUB_LOG"; fi
grep -q "install -y -qq .*libhwloc-dev" "$STUB_LOG" && pass "missing packages installed" || fail "no install call"

# A lock held longer than TB_APT_LOCK_TIMEOUT: apt's own error, and the script fails.
touch "$STUB_LOCK"
expect_status 100 "lock held past the timeout" env PATH="$WORK/bin:$PATH" TB_APT_LOCK_TIMEOUT=1 bash "$SCRIPT"
expect_output "Could not get lock" "apt's lock message is shown"
rm -f "$STUB_LOCK"
expect_status 2 "bad TB_APT_LOCK_TIMEOUT" env PATH="$WORK/bin:$PATH" TB_APT_LOCK_TIMEOUT=soon bash "$SCRIPT"
finish
