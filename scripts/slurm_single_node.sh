#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, from Debian's packages, for tests/app/test_slurm.py and for trying
# `imc-moo -m hydra/launcher=submitit_slurm hydra.launcher.partition=cpu ...` (README, "Run on a cluster").
#
#   bash scripts/slurm_single_node.sh        # as root; .ci/run calls it before the tests
#
# Idempotent: installs what is missing (slurm-wlm, munge, and slurmdbd + MariaDB for job accounting), writes the
# configs, (re)starts only the daemons that are not running or whose config changed, and returns once the node
# takes jobs and `sacct` answers. Running it again changes nothing.
#
# The cluster: slurmctld + slurmd on this host, one node (NodeAddr=127.0.0.1) with the CPUs and memory `slurmd -C`
# finds, one partition `cpu` (SLURM_PARTITION to change it), CPUs and memory as consumable resources
# (select/cons_tres, CR_Core_Memory), process tracking through /proc (proctrack/linuxproc, task/none: no cgroups
# needed, so it runs in containers too). Accounting goes to slurmdbd backed by MariaDB: submitit polls `sacct` for
# job states, and without accounting storage every poll warns and a job that dies before writing its result is
# never seen to end. MariaDB authenticates slurmdbd by its Unix user (unix_socket): no password anywhere.
# Logs: /var/log/slurm/. Exit status 0 when the cluster answers, non-zero (with one line saying why) otherwise.
set -euo pipefail

PARTITION="${SLURM_PARTITION:-cpu}"
CLUSTER=imcmoo
CONF=/etc/slurm
RUN=/run/slurm
LOG=/var/log/slurm
STATE=/var/lib/slurm
PACKAGES=(slurm-wlm munge slurmdbd mariadb-server)
start_time=$SECONDS

say() { echo "slurm_single_node: $*"; }
die() { echo "slurm_single_node: error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it installs packages and starts daemons)"

# -- packages ------------------------------------------------------------------------------------------------
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    command -v apt-get >/dev/null || die "apt-get not found: install ${missing[*]} by hand"
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt_log="$(mktemp)"
    apt-get update -q >"$apt_log" 2>&1 || { tail -5 "$apt_log" >&2; die "apt-get update failed"; }
    apt-get install -y -q --no-install-recommends "${missing[@]}" >"$apt_log" 2>&1 ||
        { tail -5 "$apt_log" >&2; die "apt-get install ${missing[*]} failed"; }
    rm -f "$apt_log"
    say "installed in $((SECONDS - start_time)) s"
fi

# -- helpers -------------------------------------------------------------------------------------------------
# alive NAME PIDFILE: the pid file names a live process called NAME (not a stale file of a killed daemon, not a
# zombie, not another program that got the pid)
alive() {
    local pid stat
    pid="$(cat "$2" 2>/dev/null)" && [ -n "$pid" ] || return 1
    stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || return 1
    [[ "$stat" == "$pid ($1) "[!Z]* ]]  # /proc/PID/stat: "PID (NAME) STATE ..."
}

# stop NAME PIDFILE: end the daemon named in the pid file, waiting up to 30 s
stop() {
    alive "$1" "$2" || return 0
    local pid
    pid="$(cat "$2")"
    kill "$pid"
    for _ in $(seq 300); do
        alive "$1" "$2" || return 0
        sleep 0.1
    done
    die "$1 (pid $pid) did not stop"
}

# wait_for WHAT SECONDS COMMAND...: retry COMMAND every 0.5 s until it succeeds
wait_for() {
    local what=$1 seconds=$2
    shift 2
    for _ in $(seq $((seconds * 2))); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    die "$what did not come up within $seconds s (logs in $LOG/)"
}

# install_conf FILE OWNER MODE < content: write FILE if its content differs; status 0 when it changed
install_conf() {
    local file=$1 owner=$2 mode=$3 tmp
    tmp="$(mktemp)"
    cat >"$tmp"
    if [ -f "$file" ] && cmp -s "$tmp" "$file"; then
        rm -f "$tmp"
        chown "$owner" "$file" && chmod "$mode" "$file"
        return 1
    fi
    install -o "${owner%:*}" -g "${owner#*:}" -m "$mode" "$tmp" "$file"
    rm -f "$tmp"
    return 0
}

mkdir -p "$CONF" "$LOG" "$STATE/slurmctld" "$STATE/slurmd" "$RUN"
chown slurm:slurm "$LOG" "$STATE/slurmctld" "$RUN"

# -- slurm.conf (every Slurm command reads it, sacctmgr too) ----------------------------------------------------
host="$(hostname -s)"
# this machine's CPUs and memory as slurmd sees them (memory: 95 %, so a small change does not invalidate the node)
read -r -a hw <<<"$(slurmd -C | head -1)"
node=()
for kv in "${hw[@]}"; do
    case "$kv" in
        NodeName=*) ;;
        RealMemory=*) node+=("RealMemory=$(( ${kv#RealMemory=} * 95 / 100 ))") ;;
        *) node+=("$kv") ;;
    esac
done
ctl_changed=0
install_conf "$CONF/slurm.conf" root:root 644 <<EOF && ctl_changed=1
# written by scripts/slurm_single_node.sh: a single-node cluster for tests and trials
ClusterName=$CLUSTER
SlurmctldHost=$host(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
StateSaveLocation=$STATE/slurmctld
SlurmdSpoolDir=$STATE/slurmd
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1024
ReturnToService=2
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=1
JobCompType=jobcomp/none
NodeName=$host NodeAddr=127.0.0.1 ${node[*]} State=UNKNOWN
PartitionName=$PARTITION Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

# -- munge (Slurm's authentication) -------------------------------------------------------------------------
[ -s /etc/munge/munge.key ] || { mungekey --create --keyfile=/etc/munge/munge.key; chown munge:munge /etc/munge/munge.key; }
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    /etc/init.d/munge start >/dev/null
    wait_for munged 20 sh -c 'munge -n | unmunge'
fi

# -- MariaDB and slurmdbd (job accounting, so that sacct answers) ----------------------------------------------
# the InnoDB settings slurmdbd checks for (it logs an error at every start without them); the buffer pool is
# virtual: MariaDB touches only the pages it uses (~120 MB resident here)
db_changed=0
install_conf /etc/mysql/mariadb.conf.d/60-slurmdbd.cnf root:root 644 <<EOF && db_changed=1
# written by scripts/slurm_single_node.sh
[mysqld]
innodb_buffer_pool_size=1024M
innodb_lock_wait_timeout=900
EOF
if [ $db_changed = 1 ] && mysqladmin ping >/dev/null 2>&1; then
    stop slurmdbd "$RUN/slurmdbd.pid"
    /etc/init.d/mariadb stop >/dev/null
fi
if ! mysqladmin ping >/dev/null 2>&1; then
    /etc/init.d/mariadb start >/dev/null
    wait_for MariaDB 60 mysqladmin ping
fi
mariadb -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
            CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED VIA unix_socket;
            GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';"

dbd_changed=0
install_conf "$CONF/slurmdbd.conf" slurm:slurm 600 <<EOF && dbd_changed=1
# written by scripts/slurm_single_node.sh
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
SlurmUser=slurm
PidFile=$RUN/slurmdbd.pid
LogFile=$LOG/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StorageLoc=slurm_acct_db
EOF
[ $dbd_changed = 1 ] && stop slurmdbd "$RUN/slurmdbd.pid"
if ! alive slurmdbd "$RUN/slurmdbd.pid"; then
    slurmdbd
    wait_for slurmdbd 60 sacctmgr -n list cluster
fi
sacctmgr -n -P list cluster format=cluster | grep -qx "$CLUSTER" || sacctmgr -i add cluster "$CLUSTER" >/dev/null

# -- slurmctld and slurmd ----------------------------------------------------------------------------------------
if [ $ctl_changed = 1 ]; then
    stop slurmd "$RUN/slurmd.pid"
    stop slurmctld "$RUN/slurmctld.pid"
fi
if ! alive slurmctld "$RUN/slurmctld.pid"; then
    slurmctld
    wait_for slurmctld 60 scontrol ping
fi
if ! alive slurmd "$RUN/slurmd.pid"; then
    slurmd
fi
node_state() { sinfo -h -n "$host" -p "$PARTITION" -o %T 2>/dev/null; }
for _ in $(seq 120); do
    case "$(node_state)" in
        idle|mixed|allocated|completing) break ;;
        down*|drain*|fail*) scontrol update nodename="$host" state=resume 2>/dev/null || true ;;
    esac
    sleep 0.5
done
case "$(node_state)" in
    idle|mixed|allocated|completing) ;;
    *) die "node $host is '$(node_state)', not taking jobs (logs in $LOG/)" ;;
esac
sacct -n -X -S now >/dev/null || die "sacct does not answer (logs in $LOG/)"
say "cluster $CLUSTER up in $((SECONDS - start_time)) s: node $host ($(sinfo -h -n "$host" -o '%c CPUs, %m MB')), partition $PARTITION"
