# Shared by the benchmark scripts (sourced, not run).

# best CMD...: the best wall-clock seconds of $RUNS runs of CMD, running $PREPARE
# (if set) before each run, untimed.
best() {
  local best=""
  for _ in $(seq "$RUNS"); do
    ${PREPARE:-true}
    local t0 t1
    t0=$(date +%s%N)
    "$@" > /dev/null
    t1=$(date +%s%N)
    best=$(awk -v b="$best" -v t="$(( t1 - t0 ))" 'BEGIN { t /= 1e9; if (b == "" || t < b) print t; else print b }')
  done
  echo "$best"
}

# ratio A B: A / B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
