#!/usr/bin/env bash
# The Slurm test, for real on localhost: installs Debian's slurm-wlm and munge, starts munged,
# slurmctld and slurmd as daemons of a single-node cluster that lives in a temporary folder (no
# systemd, cgroups or accounting) and submits scripts/study.sbatch, the job script docs/CLUSTER.md
# shows, as a 3-task job array of a small CPU study, each task taking its shard from the Slurm
# variables: cancelled while it trains, submitted again with the report as a job that depends on
# it, then tasks 0 and 2 alone (--shard-count 3). It checks that every task of the last two
# arrays succeeded on its own shard, that an interrupted run was continued, that the last tasks
# found nothing to do, and that the merged results.csv equals a single-process run of the same
# study (every column but seconds).
#
#   scripts/slurm-test.sh [SCONE]     # SCONE: a published scone to use [default: publish one]
#
# Prints one summary line; exits 0 only on success. Stops everything it started on any exit and
# prints the Slurm logs on failure.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
start=$SECONDS
# The daemons run as root (slurmd must): as another user, the test runs itself again with sudo.
[ "$(id -u)" -eq 0 ] || exec sudo -n -E "$0" "$@"

die() { echo "slurm-test: FAILED: $*" >&2; exit 1; }

install() {
  command -v munged >/dev/null && command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null && return 0
  # Installing must not start the packages' own system daemons: policy-rc.d forbids it, unless the
  # machine already has a policy.
  local policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | tee "$policy" >/dev/null && chmod 755 "$policy"
  fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
  local status=$?
  [ -z "$policy" ] || rm -f "$policy"
  return $status
}

# The job script docs/CLUSTER.md shows is the one tested here.
diff <(awk 'f == 2 && /^```$/ { exit } f == 2 { print } f == 1 { f = 2 } /^<!-- scripts\/study.sbatch -->$/ { f = 1 }' "$root/docs/CLUSTER.md") \
  "$root/scripts/study.sbatch" >&2 || die "docs/CLUSTER.md's copy of scripts/study.sbatch differs from the script"

install >&2 || die "installing slurm-wlm and munge failed"

tmp=$(mktemp -d /tmp/scone-slurm.XXXXXX) || die "no temporary folder"
chmod 755 "$tmp"
mkdir -p "$tmp"/{etc,munge,state,spool,log,run}
export SLURM_CONF="$tmp/etc/slurm.conf"
# Every daemon carries this marker, and so does whatever it starts, so that cleanup can find them all.
marker="SCONE_SLURM_TEST=$tmp"

logs() {
  for f in "$tmp"/log/*; do
    [ -f "$f" ] || continue
    echo "----- ${f#"$tmp"/} (last 60 lines)"
    tail -n 60 "$f"
  done >&2
}

ours() {
  local pid
  for pid in $(ls /proc | grep -E '^[0-9]+$'); do
    [ "$pid" -ne $$ ] && grep -qzxF "$marker" "/proc/$pid/environ" 2>/dev/null && echo "$pid"
  done
}

alive() { local state; state=$(ps -o stat= -p "$1" 2>/dev/null); [ -n "$state" ] && [ "${state:0:1}" != Z ]; }

stop() { # the daemons of these pid files, waiting up to 5 s for them to exit
  local pidfile pids=() pid
  for pidfile in "$@"; do
    [ -f "$pidfile" ] && pid=$(cat "$pidfile") && kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
  done
  for _ in $(seq 25); do
    for pid in "${pids[@]}"; do alive "$pid" && break; pid=""; done
    [ -z "${pid:-}" ] && return
    sleep 0.2
  done
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  # The jobs first, so that their steps end while slurmctld can still hear of it; munge last.
  if [ -f "$tmp/run/slurmctld.pid" ]; then
    timeout 10 scancel --quiet --user="$(id -un)" 2>/dev/null
    for _ in $(seq 50); do
      [ -z "$(timeout 5 squeue -h 2>/dev/null)" ] && break
      sleep 0.2
    done
  fi
  stop "$tmp/run/slurmd.pid" "$tmp/run/slurmctld.pid"
  stop "$tmp/munge/munged.pid"
  local pid
  for pid in $(ours); do kill -KILL "$pid" 2>/dev/null; done
  [ "$status" -eq 0 ] || logs
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free TCP port on localhost, from 6817 (Slurm's default) up.
port() {
  local p=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}
ctld_port=$(port 6817)
slurmd_port=$(port $((ctld_port + 1)))

# munge: its own key, socket, pid, log and seed under the temporary folder.
dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none && chmod 400 "$tmp/munge/munge.key"
env "$marker" munged --socket="$tmp/munge/munge.socket" --key-file="$tmp/munge/munge.key" --pid-file="$tmp/munge/munged.pid" \
  --log-file="$tmp/log/munged.log" --seed-file="$tmp/munge/munged.seed" || die "munged did not start"
munge -n -S "$tmp/munge/munge.socket" | unmunge -S "$tmp/munge/munge.socket" >/dev/null || die "munge does not round-trip a credential"

# The node as slurmd sees it (CPUs, sockets, cores, memory), named localhost, with 3 "GPUs" that
# are copies of /dev/null (plain files where mknod is not allowed: slurmd then logs an error but
# counts them), so that the script's --gres=gpu:1 is scheduled, and CUDA_VISIBLE_DEVICES set, as
# on a cluster.
hardware=$(slurmd -C | head -n 1 | sed -E 's/^NodeName=[^ ]+ //') || die "slurmd -C failed"
cat > "$SLURM_CONF" <<EOF
ClusterName=scone-test
SlurmctldHost=localhost
SlurmUser=$(id -un)
SlurmdUser=root
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$tmp/munge/munge.socket
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/run/slurmctld.pid
SlurmdPidFile=$tmp/run/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
GresTypes=gpu
NodeName=localhost NodeAddr=127.0.0.1 $hardware Gres=gpu:3 State=UNKNOWN
PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
for k in 0 1 2; do mknod "$tmp/etc/gpu$k" c 1 3 2>/dev/null || touch "$tmp/etc/gpu$k"; done
echo "Name=gpu File=$tmp/etc/gpu[0-2]" > "$tmp/etc/gres.conf"

env "$marker" slurmctld || die "slurmctld did not start"
env "$marker" slurmd -N localhost || die "slurmd did not start"
for _ in $(seq 60); do
  state=$(sinfo -h -n localhost -o %t 2>/dev/null)
  [ "$state" = idle ] && break
  sleep 0.5
done
[ "$state" = idle ] || die "the node is not idle after 30 s (sinfo: ${state:-nothing})"

scone=${1:-}
if [ -z "$scone" ]; then
  dotnet publish "$root/Scone.Cli" -c Release -o "$tmp/app" >"$tmp/log/publish.log" 2>&1 || die "dotnet publish failed"
  scone="$tmp/app/scone"
fi
[ -x "$scone" ] || die "$scone is not an executable"

# 6 small runs (a sweep over SIREN's lr, 2 seeds), 2 a shard, each long enough (a few seconds) to
# be caught in the middle by scancel.
cat > "$tmp/study.json" <<'JSON'
{
  "name": "slurm-test",
  "task": "image",
  "signals": ["siemens-star"],
  "seeds": [0, 1],
  "options": { "steps": 5000, "scale": 0.125 },
  "models": [
    { "name": "scone", "settings": { "hidden": 8 } },
    { "name": "siren", "settings": { "hidden": 8 }, "lr": [0.0001, 0.001] }
  ]
}
JSON

"$scone" study run --file "$tmp/study.json" --out "$tmp/single" --device cpu >"$tmp/log/single.log" 2>&1 || die "the single-process run failed"

cd "$tmp" || die "no $tmp"
# submit NAME TASKS [SCONE-OPTIONS]: the array as docs/CLUSTER.md submits it, with this machine's
# sizes; its output files are NAME-TASK.out.
submit() {
  env "$marker" sbatch --parsable --array="$2" --cpus-per-task=1 --mem=500M --time=10 --output="$tmp/log/$1-%a.out" \
    --export=ALL,SCONE="$scone" "$root/scripts/study.sbatch" --file "$tmp/study.json" --out "$tmp/study" --device cpu "${@:3}"
}
gone() { # waits until job $1 has left the queue (polling faster than sbatch --wait does)
  for _ in $(seq 600); do
    [ -z "$(squeue -h -j "$1" 2>/dev/null)" ] && return 0
    sleep 0.2
  done
  return 1
}
completed() { scontrol -o show job "$1" | grep -c 'JobState=COMPLETED .*ExitCode=0:0'; }
shards() { # every task of submission $1 ran its own shard, chosen by the Slurm variables
  local k
  for k in 0 1 2; do
    grep -q "in Slurm array task $k ($k/3)" "$tmp/log/$1-$k.out" || die "$1 array task $k did not run shard $k/3"
  done
}

# 1. Interrupted: scancel (SIGTERM) as soon as a task is training.
first=$(submit first 0-2) || die "sbatch refused the array"
for _ in $(seq 300); do
  grep -qs "fit step" "$tmp"/log/first-*.out && break
  sleep 0.2
done
grep -qs "fit step" "$tmp"/log/first-*.out || die "no array task started training within 60 s"
scancel "$first" && gone "$first" || die "the cancelled array did not leave the queue within 120 s"
grep -qs "scone: interrupted" "$tmp"/log/first-*.out || die "no task reported the interruption"

# 2. Re-submitted: finished runs skipped, interrupted ones continued; then the report, as a job
#    that depends on the array.
second=$(submit second 0-2) || die "sbatch refused the second array"
report=$(env "$marker" sbatch --parsable --dependency="afterok:$second" --kill-on-invalid-dep=yes --cpus-per-task=1 --mem=500M --time=10 \
  --output="$tmp/log/report.out" --wrap "'$scone' study report '$tmp/study'") || die "sbatch refused the report job"
gone "$second" && gone "$report" || die "the re-submitted array and its report did not finish within 120 s"
[ "$(completed "$second")" -eq 3 ] || die "$(completed "$second") of 3 re-submitted array tasks completed with exit 0"
[ "$(completed "$report")" -eq 1 ] || die "the report job did not complete"
shards second
continued=$(cat "$tmp"/log/second-*.out | grep -c "(continuing)")
[ "$continued" -ge 1 ] || die "no run was continued after the interruption"

# 3. Some tasks re-submitted, keeping their shards (--shard-count): nothing left to do.
third=$(submit third 0,2 --shard-count 3) && gone "$third" || die "the third array did not finish within 120 s"
[ "$(completed "$third")" -eq 2 ] || die "$(completed "$third") of 2 re-submitted tasks completed with exit 0 the third time"
for k in 0 2; do
  grep -q "in Slurm array task $k of --shard-count 3 ($k/3), 2 finished, 0 to do" "$tmp/log/third-$k.out" || die "the third array's task $k did not find shard $k/3 finished"
done

# results.csv, every column but seconds (the study file has no commas inside values).
strip() { awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "seconds") s = i } { $s = ""; print }' OFS=, "$1"; }
rows=$(($(wc -l < "$tmp/study/results.csv") - 1))
[ "$rows" -eq 6 ] || die "the Slurm study's results.csv has $rows runs, not 6"
diff <(strip "$tmp/single/results.csv") <(strip "$tmp/study/results.csv") >&2 || die "results.csv of the Slurm array differs from the single-process run"
echo "slurm-test: passed: a 3-task array interrupted by scancel, re-submitted (interrupted runs continued: $continued), tasks 0 and 2 again (nothing to do); 6 runs, results.csv equal to a single-process run ($((SECONDS - start)) s)"
