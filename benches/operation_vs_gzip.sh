#!/usr/bin/env bash
# Times the gunzip operation of an action file over a PDB-shaped mirror of 100,000
# entries against `find -name '*.gz' -print0 | xargs -0 gzip -dc > /dev/null`, page
# cache warm, and prints the ratio measured in this one run.
#
#   benches/operation_vs_gzip.sh          # COUNT=100000 RUNS=3 BENCH_DIR=... to change
#
# fair runs on a catalogue whose source index is up to date, with a new, empty
# buffer directory each run (so every operation result is computed again): the
# time is the whole `fair index --actions` command, mostly the operation, which
# also hashes every result and writes it to the buffer directory (synced to disk),
# where gzip only writes to /dev/null. (Emptying one buffer directory between runs
# instead would time ext4 reusing 100,000 just-deleted inodes, not fair.)
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/timing.sh
RUNS=${RUNS:-3}
COUNT=${COUNT:-100000}
cargo build --release --quiet --bin fair --example pdb-mirror
FAIR=$PWD/target/release/fair
WORK=${BENCH_DIR:-$(mktemp -d)}
MIRROR="$WORK/pdb-$COUNT"
mkdir -p "$WORK"
[ -d "$MIRROR" ] || target/release/examples/pdb-mirror "$MIRROR" "$COUNT"
find "$MIRROR" -type f -exec touch -d '1 hour ago' {} +
find "$MIRROR" -type f -print0 | xargs -0 cat > /dev/null
cat > "$WORK/gunzip.yaml" <<'YAML'
collection: pdb
cross_device: false
actions:
  - action: operation
    command: gunzip
    collection: pdb-cif
YAML
rm -rf "$WORK/opcat"
"$FAIR" init "$WORK/opcat" > /dev/null
"$FAIR" index "$WORK/opcat" --source "$MIRROR" --actions "$WORK/gunzip.yaml" > /dev/null

run=0
fresh_run() { run=$((run + 1)); "$FAIR" index "$WORK/opcat" --source "$MIRROR" --actions "$WORK/gunzip.yaml" --bufferdir "$WORK/opbuffers/$run"; }
rm -rf "$WORK/opbuffers"

gzip_s=$(best sh -c "find '$MIRROR' -name '*.gz' -print0 | xargs -0 gzip -dc > /dev/null")
fair_s=$(best fresh_run)
ran=$("$FAIR" index "$WORK/opcat" --source "$MIRROR" --actions "$WORK/gunzip.yaml" --bufferdir "$WORK/opbuffers/1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["operations"]["pdb-cif"])')
rm -rf "$WORK/opbuffers"
echo "gunzip of $COUNT entries: find|xargs gzip -dc ${gzip_s}s, fair operation ${fair_s}s: gzip/fair = $(ratio "$gzip_s" "$fair_s") (target >= 1.5); a re-run: $ran"
