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

# small_tree DIR N: N files of ~86 bytes under DIR, 1,000 a directory
# (dNNNNN/fNNN.cif), an hour old, as an rsynced mirror's.
small_tree() {
  python3 - "$1" "$2" <<'PY'
import os, sys, time
root, n = sys.argv[1], int(sys.argv[2])
old = time.time() - 3600  # an rsynced mirror's files are old
for i in range(n):
    d = os.path.join(root, f"d{i // 1000:05}")
    if i % 1000 == 0:
        os.makedirs(d, exist_ok=True)
    p = os.path.join(d, f"f{i % 1000:03}.cif")
    with open(p, "wb") as f:
        f.write(f"data_{i:08}\n".encode() * 6)
    os.utime(p, (old, old))
PY
}
