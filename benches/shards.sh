#!/usr/bin/env bash
# Sharded indexing: the time to index one tree of N small files (1,000 a
# directory, ~86 bytes each, an hour old) as 1, 2 and 4 shard runs started at once, then
# `fair merge`, against one plain `fair index` of the same tree in the same run;
# first index (a fresh catalogue) and unchanged re-index. Each shard run gets
# max(1, cores / tasks) hashing threads. With SLURM_CONF set (a cluster, e.g.
# deploy/slurm/one-node-cluster.sh), also through deploy/slurm/index.sh.
#
#   benches/shards.sh 200000
#   RUNS=3 BENCH_DIR=/var/tmp/shards benches/shards.sh 1000000
#
# The tree is deleted at the end unless KEEP=1. Best of $RUNS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/timing.sh
N=${1:?usage: benches/shards.sh N}
RUNS=${RUNS:-2}
cargo build --release --quiet --bin fair
FAIR=$PWD/target/release/fair
WORK=${BENCH_DIR:-$(mktemp -d /var/tmp/fair-shards.XXXX)}
mkdir -p "$WORK"
SRC=$WORK/src CAT=$WORK/cat
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT
cores=$(nproc)
echo "N=$N files, $cores cores, $(free -g | awk '/Mem/ {print $2}') GB"

small_tree "$SRC" "$N"
find "$SRC" -type f -print0 | xargs -0 cat > /dev/null

fresh() { rm -rf "$CAT"; "$FAIR" init "$CAT" -q > /dev/null; }
plain() { "$FAIR" index "$CAT" --source "$SRC" --collection big -q; }
# sharded K: K shard runs at once, then the merge.
sharded() {
  local k=$1 jobs=$(( cores / $1 > 0 ? cores / $1 : 1 )) pids=() i
  for ((i = 0; i < k; i++)); do
    "$FAIR" index "$CAT" --source "$SRC" --collection big --shard "$i/$k" --jobs "$jobs" -q &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i"; done
  "$FAIR" merge "$CAT" big --shards "$k" -q
}
slurm() {
  deploy/slurm/index.sh --cpus-per-task $(( cores / $1 > 0 ? cores / $1 : 1 )) \
    --logs "$WORK/logs" "$CAT" "$SRC" big "$1" > /dev/null
}

first=$(PREPARE=fresh best plain)
again=$(best plain)
cp "$CAT/deepfolders/big.json" "$WORK/plain.json"
echo "| runs | first index | vs one run | unchanged re-index | vs one run |"
echo "| --- | --- | --- | --- | --- |"
printf '| one `fair index` | %.2f s | 1.00 | %.2f s | 1.00 |\n' "$first" "$again"
ways=(sharded)
[ -n "${SLURM_CONF:-}" ] && ways+=(slurm)
export FAIR
for way in "${ways[@]}"; do
  for k in 1 2 4; do
    f=$(PREPARE=fresh best "$way" "$k")
    a=$(best "$way" "$k")
    cmp -s "$CAT/deepfolders/big.json" "$WORK/plain.json" || { echo "the merge differs from one run" >&2; exit 1; }
    label="$k shard runs + merge"
    [ "$way" = slurm ] && label="index.sh, $k Slurm tasks"
    printf '| %s | %.2f s | %s | %.2f s | %s |\n' "$label" "$f" "$(ratio "$f" "$first")" "$a" "$(ratio "$a" "$again")"
  done
done
