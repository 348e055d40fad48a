#!/usr/bin/env bash
# Publishes the catalogue CAT (where `fair snapshot` runs) to replicas: copies
# of it, each served by its own `fair serve`, behind one load balancer. No
# replica ever serves a record whose keyorder, access index or buffers it, or
# any other replica, lacks:
#
#   0. CAT's records (fair.toml, distributions/, dataset_header/) are copied
#      aside first, so that a `fair snapshot` finishing meanwhile is published
#      next time, never as a record whose files were not sent;
#   1. the content-addressed files (keyorder/, access_index/, buffers/) go to
#      EVERY destination, new files only (they never change), nothing deleted;
#   2. only when all of them have them, the records go to every destination,
#      each file replaced whole, all of a destination's renamed into place
#      together at the end of its transfer (rsync --delay-updates); records CAT
#      no longer has are removed with --remove-records only.
#
# Nothing of `.fair/` is sent but the mark `.fair/replica` (below): each
# replica's `fair serve` keeps its own derived store and catches it up itself
# before it serves the new records.
#
#   deploy/replicas/publish.sh [OPTIONS] CAT DEST...
#   deploy/replicas/publish.sh --prune [OPTIONS] CAT DEST...
#
# DEST is an rsync destination: a local directory or HOST:DIR (over ssh). The
# destinations are written to in parallel, each phase ending when all are done.
#
# Options:
#   --prune        do not publish: delete from every DEST the content-addressed
#                  files CAT no longer has, once every DEST holds CAT's records
#                  (refused, deleting nothing, if one does not). Run it well
#                  after the publication that removed their records (a replica
#                  serves new records within its --poll-ms of receiving them).
#   --rsync-opt O  pass O to every rsync (repeatable): --rsh='ssh -i KEY',
#                  --bwlimit=RATE, --timeout=SECONDS (default 300: a replica
#                  silent that long fails, rather than hold up the others)
#   --remove-records
#                  remove from the destinations the records CAT no longer has
#                  (a dataset taken out); without it, a destination holding a
#                  record CAT lacks refuses the run before anything is sent
#                  (CAT may be the wrong directory: a fresh or an old copy)
#   -n, --dry-run  list what would be sent or deleted, change nothing
#   -q             print nothing on success
#
# One run at a time for a CAT (a lock on the directory): a second one exits 1.
# Each destination gets .fair/replica, naming its primary; a CAT that has one
# is refused (the arguments swapped), as are options after CAT and a CAT or
# DEST starting with '-' (write ./-name).
#
# Exit status: 0 when every DEST got everything; 1 when a destination failed,
# each failed one named on stderr (if phase 1 failed anywhere, no record was
# sent anywhere; if phase 2 failed somewhere, the others serve the new records
# and the failed ones the old ones, every file of both present), or another run
# holds CAT; 2 for bad usage.
set -euo pipefail

usage() {
  local out=2
  [ "${1:-2}" -ne 0 ] || out=1
  sed -n '/^#   deploy\/replicas\/publish.sh \[/,/^set /{/^set /d;s/^# \{0,1\}//;p}' "$0" >&"$out"
  exit "${1:-2}"
}
# Written to each destination with its records: marks it as a replica, which
# this script refuses as CAT (arguments swapped would replace the primary's
# records with the replica's older ones).
marker=.fair/replica
prune=0 quiet=0 remove=0
opts=(--timeout=300) dry=()
while [ $# -gt 0 ]; do
  case $1 in
    --prune) prune=1; shift ;;
    --remove-records) remove=1; shift ;;
    --rsync-opt) [ $# -ge 2 ] || usage; opts+=("$2"); shift 2 ;;
    -n | --dry-run) dry=(--dry-run --itemize-changes); shift ;;
    -q) quiet=1; shift ;;
    -h | --help) usage 0 ;;
    --) shift; break ;;
    -*) echo "$0: unknown option $1" >&2; usage ;;
    *) break ;;
  esac
done
[ $# -ge 2 ] || usage
cat=${1%/} && shift
dests=("$@")
for arg in "$cat" "${dests[@]}"; do
  case $arg in
    -*)
      echo "$0: $arg: options go before CAT, and a path starting with '-' is written ./$arg" >&2
      exit 2
      ;;
  esac
done
for dest in "${dests[@]}"; do
  if [ "$(realpath -m -- "${dest%/}")" = "$(realpath -m -- "$cat")" ]; then
    echo "$0: $dest: a destination is CAT itself" >&2
    exit 2
  fi
done
if [ -e "$cat/$marker" ]; then
  echo "$0: $cat is a replica ($cat/$marker: $(head -c 300 "$cat/$marker")): publish from the primary, where \`fair snapshot\` runs; nothing done" >&2
  exit 2
fi
if [ ! -f "$cat/fair.toml" ]; then
  echo "$0: $cat: not a fair catalogue (no fair.toml): CAT is the catalogue \`fair snapshot\` writes" >&2
  exit 2
fi
# One run at a time: an older run's records must not land after a newer one's.
exec 9<"$cat"
if ! flock -n 9; then
  echo "$0: $cat: another publish.sh of it is running; nothing done" >&2
  exit 1
fi
say() { [ "$quiet" -eq 1 ] || echo "$*${dry[*]:+ (dry run: nothing changed)}" >&2; }

# The content-addressed directories CAT has, as rsync sources relative to CAT
# (the writer's staging directory of buffers/ left out).
content=()
for dir in keyorder access_index buffers; do
  [ -d "$cat/$dir" ] && content+=("$cat/./$dir/")
done
content_opts=(-a --relative --exclude=/buffers/.fair-tmp/)

# Runs `rsync ARGS... DEST/` for every destination at once; prints the
# destinations where it failed and returns 1 if any did.
each() {
  local phase=$1 && shift
  local pids=() failed=0 i
  for dest in "${dests[@]}"; do
    # Not holding the lock (fd 9): a process rsync leaves behind (an ssh
    # master) must not block the next run.
    rsync "${opts[@]}" "${dry[@]}" "$@" "${dest%/}/" 9<&- &
    pids+=($!)
  done
  for i in "${!dests[@]}"; do
    if ! wait "${pids[$i]}"; then
      echo "$0: $phase: failed for ${dests[$i]}" >&2
      failed=1
    fi
  done
  return "$failed"
}

# Prints, itemized, what sending the records RECORDS... to DEST would change
# there (rsync --delete --dry-run: nothing changes); fails if DEST cannot be
# compared.
record_changes() {
  local dest=$1 && shift
  rsync 9<&- -r --relative --checksum --delete --dry-run --itemize-changes \
    "${opts[@]}" "$@" "${dest%/}/" 2>&1
}

if [ "$prune" -eq 1 ]; then
  # Every DEST must hold CAT's records as they are: then none names a file CAT
  # lacks, and deleting those is safe.
  records=("$cat/./fair.toml")
  for dir in distributions dataset_header; do
    [ -d "$cat/$dir" ] && records+=("$cat/./$dir/")
  done
  differ=0
  for dest in "${dests[@]}"; do
    if ! out=$(record_changes "$dest" "${records[@]}"); then
      echo "$0: prune: cannot compare the records of $dest: $out" >&2
      differ=1
    elif [ -n "$out" ]; then
      echo "$0: prune: the records of $dest are not those of $cat (publish first):" >&2
      echo "$out" | sed 's/^/  /' >&2
      differ=1
    fi
  done
  if [ "$differ" -eq 1 ]; then
    echo "$0: prune: nothing deleted" >&2
    exit 1
  fi
  [ ${#content[@]} -gt 0 ] || exit 0
  # Sends nothing (--existing --ignore-existing), deletes what CAT lacks.
  each "prune" "${content_opts[@]}" --existing --ignore-existing --delete "${content[@]}" || exit 1
  say "pruned ${#dests[@]} destination(s)"
  exit 0
fi

# 0. CAT's records as they are now.
stage=$(mktemp -d "${TMPDIR:-/tmp}/fair-publish.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/distributions" "$stage/dataset_header"
rsync -a "$cat/fair.toml" "$stage/" 9<&-
for dir in distributions dataset_header; do
  [ -d "$cat/$dir" ] && rsync -a "$cat/$dir/" "$stage/$dir/" 9<&-
done
mkdir "$stage/.fair"
echo "a replica of $(hostname):$(realpath -- "$cat"), published by deploy/replicas/publish.sh" > "$stage/$marker"
records=("$stage/./fair.toml" "$stage/./distributions/" "$stage/./dataset_header/")

# Records a destination has and CAT has not are removed only when asked: CAT
# may be the wrong directory (a fresh catalogue, an old copy).
if [ "$remove" -eq 0 ]; then
  gone=0
  for dest in "${dests[@]}"; do
    out=$(record_changes "$dest" "${records[@]}" | sed -n 's/^\*deleting  *//p') || true
    if [ -n "$out" ]; then
      echo "$0: $dest has records $cat has not (pass --remove-records to remove them):" >&2
      echo "$out" | sed 's/^/  /' >&2
      gone=1
    fi
  done
  if [ "$gone" -eq 1 ]; then
    echo "$0: nothing sent to any destination" >&2
    exit 1
  fi
fi

# 1. Content-addressed files to every destination.
if [ ${#content[@]} -gt 0 ] && ! each "content (phase 1)" "${content_opts[@]}" --ignore-existing "${content[@]}"; then
  echo "$0: no records were sent to any destination" >&2
  exit 1
fi
say "content sent to ${#dests[@]} destination(s)"

# 2. The records, renamed into place at the end of each destination's transfer.
each "records (phase 2)" -a --relative --checksum --delay-updates --delete-delay \
  "${records[@]}" "$stage/./$marker" || exit 1
say "records sent to ${#dests[@]} destination(s)"
