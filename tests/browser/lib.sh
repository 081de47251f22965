# Shared by the browser tests: sourced after tests/mpi/common.sh (pass, fail, $WORK),
# never run. Skips the test (exit 77) without chromium; $OUT: the screenshots' folder
# ($TB_BROWSER_OUT, default browser-reports/ here).
BROWSER_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${TB_BROWSER_OUT:-$PWD/browser-reports}
if ! command -v chromium >/dev/null 2>&1; then
  echo "SKIP: chromium is not installed (Debian package 'chromium', installed by scripts/install-deps.sh)"
  exit 77
fi
mkdir -p "$OUT"

# check NAME HTML ARGS...: the page in headless Chromium (tests/browser/check_report.py:
# no console error, no request, the sections, and ARGS' checks), its screenshot as
# $OUT/NAME.png.
check() {
  local name=$1 html=$2
  shift 2
  if python3 "$BROWSER_DIR/check_report.py" "$html" --png "$OUT/$name.png" --absent-element script \
    --absent-element img --absent-element iframe "$@" >"$WORK/browser" 2>&1; then
    pass "$name: opens cleanly in chromium ($(grep -o 'load event after [0-9.]* s' "$WORK/browser"))"
  else
    fail "$name"
  fi
  cat "$WORK/browser"
}
