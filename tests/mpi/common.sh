# Shared set-up for the MPI tests: sourced, never run. $1 of the test is the binary.
set -u
TB=${1:?usage: test.sh /path/to/topobench}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Oversubscribed ranks on a small machine: yield instead of spinning.
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_mpi_yield_when_idle=1
WORK=$(mktemp -d /tmp/topobench-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
FAILS=0
PASSES=0

tb_mpirun() { # tb_mpirun NP args...
  local np=$1
  shift
  mpirun --oversubscribe -np "$np" "$@"
}

pass() { PASSES=$((PASSES + 1)); echo "ok: $*"; }
fail() { FAILS=$((FAILS + 1)); echo "FAIL: $*"; }

# expect_status WANT DESC cmd...: runs cmd, compares its exit status.
expect_status() {
  local want=$1 desc=$2 got
  shift 2
  "$@" >"$WORK/out" 2>&1
  got=$?
  if [ "$got" = "$want" ]; then pass "$desc (exit $got)"; else
    fail "$desc: exit $got, expected $want"; tail -20 "$WORK/out"; fi
}

# expect_output PATTERN DESC: the last command's output matches the extended regex.
expect_output() {
  if grep -Eq -- "$1" "$WORK/out"; then pass "$2"; else
    fail "$2: output lacks /$1/"; tail -20 "$WORK/out"; fi
}

# py CHECK-DESC python-code: run python3 on the document given in $DOC.
py_check() {
  local desc=$1
  shift
  if python3 - "$@" >"$WORK/py" 2>&1; then pass "$desc"; else fail "$desc"; cat "$WORK/py"; fi
}

finish() {
  echo "$PASSES passed, $FAILS failed"
  [ "$FAILS" -eq 0 ]
}
