#!/usr/bin/env bash
# Times `fair index` against b3sum on the same files, page cache warm, and prints
# ratios measured in this one run (absolute seconds only as context).
#
#   benches/index_vs_b3sum.sh            # needs b3sum (apt-get install b3sum)
#   RUNS=7 BENCH_DIR=/var/tmp/fairbench benches/index_vs_b3sum.sh
#
# Trees: 1 GiB as 16 files of 64 MiB; 20,000 files of 4 KiB in 100 directories;
# 20,000 files of 64 KiB (the size of a typical compressed PDB entry) likewise.
# Every timing is the best of $RUNS runs; `fair index` gets a fresh catalogue each
# time (so it hashes everything), except in the incremental case.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/timing.sh
RUNS=${RUNS:-5}
command -v b3sum >/dev/null || { echo "b3sum not found: apt-get install b3sum" >&2; exit 1; }
cargo build --release --quiet
FAIR=$PWD/target/release/fair
WORK=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$WORK"
echo "work directory: $WORK ($(nproc) cores)"

if [ ! -d "$WORK/large" ]; then
  mkdir -p "$WORK/large"
  for i in $(seq -w 1 16); do head -c 64M /dev/urandom > "$WORK/large/part$i.bin"; done
fi
tree() { # DIR SIZE: 20,000 files of SIZE bytes in 100 directories
  [ -d "$1" ] && return
  python3 - "$1" "$2" <<'PY'
import os, sys
root, size = sys.argv[1], int(sys.argv[2])
for i in range(20000):
    d = os.path.join(root, f"d{i % 100:02}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i:05}.dat"), "wb") as f:
        f.write(os.urandom(size))
PY
  # An rsynced mirror's files are old: older than fair's 2 s racy-clean window.
  find "$1" -type f -exec touch -d '1 hour ago' {} +
}
tree "$WORK/small" 4096
tree "$WORK/small64" 65536
for d in large small small64; do find "$WORK/$d" -type f -print0 | xargs -0 cat > /dev/null; done

fresh() { rm -rf "$WORK/cat"; "$FAIR" init "$WORK/cat" > /dev/null; }

b3_large=$(best b3sum "$WORK"/large/*)
fair_large=$(PREPARE=fresh best "$FAIR" index "$WORK/cat" --source "$WORK/large" --collection large)
echo "1 GiB in 16 x 64 MiB:   b3sum ${b3_large}s, fair index ${fair_large}s: fair/b3sum = $(ratio "$fair_large" "$b3_large") (target <= 1.2)"

b3_small=$(best sh -c "find '$WORK/small' -type f -print0 | xargs -0 b3sum")
fair_small=$(PREPARE=fresh best "$FAIR" index "$WORK/cat" --source "$WORK/small" --collection small)
echo "20,000 x 4 KiB:         find|xargs b3sum ${b3_small}s, fair index ${fair_small}s: b3sum/fair = $(ratio "$b3_small" "$fair_small") (target >= 1.5)"

for tree in small small64; do
  first=$(PREPARE=fresh best "$FAIR" index "$WORK/cat" --source "$WORK/$tree" --collection "$tree")
  "$FAIR" index "$WORK/cat" --source "$WORK/$tree" --collection "$tree" > /dev/null
  hashed=$("$FAIR" index "$WORK/cat" --source "$WORK/$tree" --collection "$tree" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["hashed"])')
  second=$(best "$FAIR" index "$WORK/cat" --source "$WORK/$tree" --collection "$tree")
  echo "re-index $tree: first ${first}s, unchanged ${second}s (hashed: $hashed): first/unchanged = $(ratio "$first" "$second") (target >= 5)"
done
