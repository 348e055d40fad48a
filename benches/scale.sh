#!/usr/bin/env bash
# Scale: every step of fair on a tree of N small files (1,000 a directory, ~86
# bytes each, an hour old), each timed against a reference measured in the same
# run, with the peak RSS of each step (GNU time's maximum resident set size).
#
#   benches/scale.sh 1000000
#   BENCH_DIR=/var/tmp/scale RUNS=2 KEEP=1 benches/scale.sh 10000000
#
# N = 10^7 needs ~10^7 free inodes and ~45 GB of disk (check `df -i` and `df -h`
# first); the tree is deleted at the end unless KEEP=1. Page cache warm; each
# timing is the best of $RUNS runs (default 2). Steps and references:
#
#   first index        `find -print0 | xargs -0 -P$(nproc) -n 5000 b3sum`
#   unchanged re-index `find -printf '%s %T@ %i %C@\n'` (the stat floor)
#   1% changed         the same floor (what is left is hashing 1% of the files)
#   snapshot           parsing the collection (Python's json.load)
#   diff               GNU diff of the two collection files
#   manifest (b3sum)   awk turning the collection into b3sum lines
#   reindex (lookups and reverse index rebuilt from nothing)   json.load, as snapshot
#   verify             b3sum of the keyorder, access index and collection files
#   serve              startup until /health answers; p50/p99 of /machine/access
#                      lookups of random elements against /health, same client
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/timing.sh
N=${1:?usage: benches/scale.sh N}
RUNS=${RUNS:-2}
command -v b3sum >/dev/null || { echo "b3sum not found: apt-get install b3sum" >&2; exit 1; }
cargo build --release --quiet
FAIR=$PWD/target/release/fair
WORK=${BENCH_DIR:-$(mktemp -d /var/tmp/fair-scale.XXXX)}
mkdir -p "$WORK"
SRC=${SRC_DIR:-$WORK/src} CAT=$WORK/cat
echo "work directory: $WORK, N=$N ($(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GB)"

if [ ! -f "$SRC.done" ]; then
  small_tree "$SRC" "$N"
  touch "$SRC.done"
fi
find "$SRC" -type f -print0 | xargs -0 cat > /dev/null

# measure NAME CMD...: runs CMD $RUNS times (PREPARE before each, untimed) and
# prints "seconds peak_rss_MB" of the fastest run.
measure() {
  local best="" rss=""
  for _ in $(seq "$RUNS"); do
    ${PREPARE:-true}
    /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" > /dev/null 2> "$WORK/stderr"
    read -r t m < "$WORK/time"
    if [ -z "$best" ] || awk -v t="$t" -v b="$best" 'BEGIN { exit !(t < b) }'; then
      best=$t rss=$m
    fi
  done
  echo "$best $((rss / 1024))"
}
row() { # STEP FAIR_RESULT REFERENCE_RESULT REFERENCE_NAME
  read -r ft fm <<< "$2"
  read -r rt _ <<< "$3"
  printf '| %s | %s s | %s s (%s) | %s | %s MB |\n' "$1" "$ft" "$rt" "$4" "$(ratio "$ft" "$rt")" "$fm"
}
echo "| step | fair | reference | ratio | fair peak RSS |"
echo "| --- | --- | --- | --- | --- |"

fresh() { rm -rf "$CAT"; "$FAIR" init "$CAT" -q > /dev/null; }
ref=$(measure sh -c "find '$SRC' -type f -print0 | xargs -0 -P$(nproc) -n 5000 b3sum")
fair=$(PREPARE=fresh measure "$FAIR" index "$CAT" --source "$SRC" --collection big -q)
row "first index" "$fair" "$ref" "parallel b3sum"

floor=$(measure find "$SRC" -type f -printf '%s %T@ %i %C@\n')
fair=$(measure "$FAIR" index "$CAT" --source "$SRC" --collection big -q)
row "unchanged re-index" "$fair" "$floor" "find -printf"

# A download index (each file at a mirror URL) so snapshots have access indexes.
mkdir -p "$CAT/download_indices"
python3 - "$CAT/deepfolders/big.json" "$CAT/download_indices/big.json" <<'PY'
import sys
with open(sys.argv[1]) as src, open(sys.argv[2], "w") as out:
    out.write("{")
    first = True
    for line in src:
        line = line.strip().rstrip(",")
        if not line.startswith('"'):
            continue
        key = line.split('": "')[0][1:]
        out.write(("" if first else ",") + f'\n  "{key}": ["https://mirror.example.org/pdb/{key}"]')
        first = False
    out.write("\n}\n")
PY
cp "$CAT/deepfolders/big.json" "$WORK/v1.json"
ref=$(measure python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$WORK/v1.json")
# Once: a second run would find version 1 there.
fair=$(RUNS=1 measure "$FAIR" snapshot "$CAT" big big --version 1 -q)
row "snapshot (keyorder, access index, lookups)" "$fair" "$ref" "json.load"

# 1% of the files change.
find "$SRC" -type f -name 'f0[0-9]0.cif' -print0 | head -z -n $((N / 100)) | xargs -0 sh -c 'for f; do echo changed >> "$f"; touch -d "1 hour ago" "$f"; done' _
RUNS_SAVED=$RUNS RUNS=1
fair=$(measure "$FAIR" index "$CAT" --source "$SRC" --collection big -q)
RUNS=$RUNS_SAVED
row "re-index, 1% changed" "$fair" "$floor" "find -printf"
cp "$CAT/deepfolders/big.json" "$WORK/v2.json"
"$FAIR" snapshot "$CAT" big big --version 2 -q > /dev/null

ref=$(measure sh -c "diff '$WORK/v1.json' '$WORK/v2.json'; true")
fair=$(measure "$FAIR" diff "$CAT" big@1 big@2 --json)
row "diff (1% changed)" "$fair" "$ref" "GNU diff"

ref=$(measure awk -F'"' 'NF >= 4 { print $4 "  " $2 }' "$WORK/v2.json")
fair=$(measure "$FAIR" manifest "$CAT" big@2 --format b3sum)
row "manifest b3sum" "$fair" "$ref" "awk"

ref=$(measure python3 -c 'import json,sys; json.load(open(sys.argv[1])); json.load(open(sys.argv[2]))' "$WORK/v1.json" "$WORK/v2.json")
fair=$(PREPARE="rm -f $CAT/.fair/store.redb" measure "$FAIR" reindex "$CAT")
row "reindex (lookups, reverse index of 2 versions)" "$fair" "$ref" "json.load x2"

element=$(awk -F'"' 'NF >= 4 { print $4; exit }' "$WORK/v2.json")
fair=$(measure "$FAIR" locate "$CAT" "$element")
ref=$(measure grep -c "$element" "$WORK/v2.json")
row "locate one element" "$fair" "$ref" "grep"

ref=$(measure sh -c "b3sum '$CAT'/keyorder/* '$CAT'/access_index/* '$CAT'/buffers/*")
fair=$(measure "$FAIR" verify "$CAT")
row "verify" "$fair" "$ref" "b3sum of its files"

# serve: startup, then lookups of random elements against /health.
port=$((20000 + RANDOM % 20000))
started=$(date +%s%N)
"$FAIR" serve "$CAT" --listen "127.0.0.1:$port" -q 2> /dev/null &
server=$!
until curl -fs "http://127.0.0.1:$port/health" > /dev/null; do sleep 0.02; done
up=$(awk -v t="$(( $(date +%s%N) - started ))" 'BEGIN { printf "%.3f", t / 1e9 }')
python3 - "$port" "$WORK/v2.json" <<'PY'
import http.client, random, sys, time
port, path = int(sys.argv[1]), sys.argv[2]
elements = []
with open(path) as f:
    for line in f:
        if '": "' in line and random.random() < 0.01:
            elements.append(line.split('": "')[1][:64])
conn = http.client.HTTPConnection("127.0.0.1", port)
def latencies(urls):
    times = []
    for url in urls:
        t = time.perf_counter()
        conn.request("GET", url)
        r = conn.getresponse()
        r.read()
        assert r.status == 200, (url, r.status)
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2] * 1000, times[int(len(times) * 0.99)] * 1000
n = 5000
health = latencies(["/health"] * n)
access = latencies([f"/machine/access/{random.choice(elements)}" for _ in range(n)])
print(f"| serve: /machine/access p50/p99 | {access[0]:.3f}/{access[1]:.3f} ms | {health[0]:.3f}/{health[1]:.3f} ms (/health) | {access[1] / health[1]:.2f} | |")
PY
rss=$(awk '/VmHWM/ { print int($2 / 1024) }' "/proc/$server/status")
kill -TERM "$server"
wait "$server" || true
echo "| serve: startup until /health answers | ${up} s | | | ${rss} MB (after the lookups) |"

if [ "${KEEP:-0}" != 1 ]; then rm -rf "$WORK"; fi
