#!/usr/bin/env bash
# Indexes the source SRC into the collection NAME of the catalogue CAT as a Slurm
# job array of N shard tasks (`fair index --shard I/N`, I = $SLURM_ARRAY_TASK_ID,
# N = $SLURM_ARRAY_TASK_COUNT), then `fair merge` in a job that depends on them
# all (--dependency=afterok), and waits for the lot. CAT and SRC must be on a
# filesystem every node mounts at the same path.
#
#   deploy/slurm/index.sh [OPTIONS] CAT SRC NAME N
#
# Options (resources per shard task; the merge job gets one CPU):
#   --cpus-per-task C   CPUs of each shard task, its hashing threads (default 1)
#   --mem MEM           memory of each shard task, as sbatch takes it (e.g. 2G)
#   --time T            time limit of each task (sbatch --time)
#   --partition P       --account A   --qos Q   passed to every job
#   --max-running M     at most M shard tasks at once (--array=0-(N-1)%M)
#   --exclude PATTERN   passed to every shard run (repeatable)
#   --logs DIR          where the jobs' output goes (default: the current directory)
#   --no-wait           submit, print the merge job's id and return at once
#
# The nodes run the `fair` found on their PATH, or $FAIR when set. Exit status:
# 0 when every shard task and the merge completed; 1 otherwise, with the state
# of each job that did not (and its log file) on stderr; 2 for bad usage.
set -euo pipefail

usage() { sed -n '9,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
cpus=1 logs=$PWD wait=1
common=() task=() exclude=() throttle=""
while [ $# -gt 0 ]; do
  case $1 in
    --cpus-per-task) cpus=$2; shift 2 ;;
    --mem) task+=(--mem="$2"); shift 2 ;;
    --time) task+=(--time="$2"); shift 2 ;;
    --partition | --account | --qos) common+=("$1=$2"); shift 2 ;;
    --max-running) throttle="%$2"; shift 2 ;;
    --exclude) exclude+=(--exclude "$2"); shift 2 ;;
    --logs) logs=$2; shift 2 ;;
    --no-wait) wait=0; shift ;;
    -h | --help) usage ;;
    --) shift; break ;;
    -*) echo "$0: unknown option $1" >&2; usage ;;
    *) break ;;
  esac
done
[ $# -eq 4 ] || usage
cat=$1 src=$2 name=$3 n=$4
case $n in '' | *[!0-9]* | 0) echo "$0: N: expected a number of shards, 1 or more, not '$n'" >&2; exit 2 ;; esac
fair=${FAIR:-fair}
mkdir -p "$logs"

# The command lines the nodes run, each word quoted for the shell of the job.
quote() { printf ' %q' "$@"; }
shard_cmd="$(quote "$fair" index "$cat" --source "$src" --collection "$name" "${exclude[@]}")"
shard_cmd+=' --shard "$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT" --jobs "${SLURM_CPUS_PER_TASK:-1}" --json'
merge_cmd="$(quote "$fair" merge "$cat" "$name" --shards "$n" --json)"

array=$(sbatch --parsable "${common[@]}" "${task[@]}" --cpus-per-task="$cpus" \
  --job-name="fair-index-$name" --array="0-$((n - 1))$throttle" \
  --output="$logs/fair-index-$name-%A_%a.out" --wrap="$shard_cmd")
array=${array%%;*}
merge_job=(sbatch --parsable "${common[@]}" --job-name="fair-merge-$name"
  --dependency="afterok:$array" --kill-on-invalid-dep=yes
  --output="$logs/fair-merge-$name-%j.out" --wrap="$merge_cmd")
if [ "$wait" -eq 0 ]; then
  merge=$("${merge_job[@]}")
  echo "${merge%%;*}"
  exit 0
fi
echo "fair-index-$name: shard tasks $array, then the merge" >&2
# sbatch --wait returns when the merge ends, or is cancelled because a shard
# task failed (its exit status alone does not say which): the states do.
merge=$("${merge_job[@]}" --wait) || true
merge=${merge%%;*}

# The state of each task of job $1: "ID STATE" lines.
states() {
  if out=$(scontrol -o show job "$1" 2>/dev/null) && [ -n "$out" ]; then
    sed -E 's/^JobId=([0-9]+).*ArrayTaskId=([0-9]+).*JobState=([A-Z_]+).*/\2 \3/; s/^JobId=([0-9]+) .*JobState=([A-Z_]+).*/\1 \2/' <<<"$out"
  else
    sacct -n -X -P -j "$1" -o JobID,State 2>/dev/null | tr '|' ' '
  fi
}
failed=0
while read -r task state; do
  if [ "$state" != COMPLETED ]; then
    echo "fair-index-$name: shard task $task: $state (log: $logs/fair-index-$name-${array}_$task.out)" >&2
    failed=1
  fi
done < <(states "$array")
state=$(states "${merge:-0}" | awk '{print $2}')
if [ "$state" != COMPLETED ]; then
  echo "fair-index-$name: merge job ${merge:-?}: ${state:-not run} (log: $logs/fair-merge-$name-$merge.out)" >&2
  failed=1
fi
[ "$failed" -eq 0 ] || exit 1
cat "$logs/fair-merge-$name-$merge.out"
