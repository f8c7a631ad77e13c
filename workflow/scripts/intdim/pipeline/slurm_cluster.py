"""A real single-node SLURM, with accounting, on one Debian machine (as root, no systemd).

Used by tests/test_slurm.py, and a way to try the SLURM profile on a laptop or a VM:

    sudo python -m intdim.pipeline.slurm_cluster install  # Debian packages: munge, slurm, mariadb
    sudo python -m intdim.pipeline.slurm_cluster start    # configure this machine, start daemons
    sudo python -m intdim.pipeline.slurm_cluster stop

It configures one node (this machine) in one partition, ``debug``, and a cluster ``local`` with
an account ``intdim`` for the current user, so sbatch, squeue and sacct all work. The daemons are
started as plain processes and stopped by the PIDs recorded when they started.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

PACKAGES = ["munge", "slurmctld", "slurmd", "slurm-client", "slurmdbd", "mariadb-server"]
BINARIES = ["munged", "slurmctld", "slurmd", "sbatch", "slurmdbd", "mariadbd", "sacctmgr"]
CONF_DIR = Path("/etc/slurm")
STATE = Path(os.environ.get("INTDIM_SLURM_STATE", "/var/lib/intdim-slurm"))
PARTITION, CLUSTER, ACCOUNT = "debug", "local", "intdim"
DB_PASSWORD = "intdim-slurm-test"


def run(cmd: list[str], check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=check, capture_output=True, text=True, **kwargs)


def installed() -> bool:
    return all(shutil.which(b) or Path("/usr/sbin", b).exists() for b in BINARIES)


def install() -> None:
    """apt-get the packages (needs root and the Debian archive)."""
    if installed():
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-q"], env=env, timeout=600)
    run(["apt-get", "install", "-y", "-q", *PACKAGES], env=env, timeout=900)
    if not installed():
        raise RuntimeError(f"installed {PACKAGES}, but some of {BINARIES} are still missing")


def _node_line() -> str:
    cpus = os.cpu_count() or 1
    mem_kb = int(next(ln for ln in open("/proc/meminfo") if ln.startswith("MemTotal")).split()[1])
    real_memory = int(mem_kb / 1024 * 0.9)
    return (
        f"NodeName={socket.gethostname().split('.')[0]} NodeAddr=127.0.0.1 CPUs={cpus} "
        f"RealMemory={real_memory} State=UNKNOWN"
    )


def _slurm_conf(message_timeout: int | None = None) -> str:
    host = socket.gethostname().split(".")[0]
    timeout = "" if message_timeout is None else f"MessageTimeout={message_timeout}\n"
    return f"""{timeout}ClusterName={CLUSTER}
SlurmctldHost={host}(127.0.0.1)
AuthType=auth/munge
CredType=cred/munge
SlurmUser=slurm
SlurmdUser=root
StateSaveLocation={STATE}/slurmctld
SlurmdSpoolDir={STATE}/slurmd
SlurmctldPidFile={STATE}/slurmctld.pid
SlurmdPidFile={STATE}/slurmd.pid
SlurmctldLogFile={STATE}/log/slurmctld.log
SlurmdLogFile={STATE}/log/slurmd.log
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=6819
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SlurmdTimeout=300
InactiveLimit=0
MinJobAge=300
DefMemPerCPU=1000
KillWait=10
Waittime=0
{_node_line()}
PartitionName={PARTITION} Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""


def _slurmdbd_conf() -> str:
    return f"""AuthType=auth/munge
DbdHost=localhost
DbdPort=6819
SlurmUser=slurm
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass={DB_PASSWORD}
StorageLoc=slurm_acct_db
LogFile={STATE}/log/slurmdbd.log
PidFile={STATE}/slurmdbd.pid
"""


def poll(check, seconds: float):
    """check() each second until it returns something truthy (returned) or seconds pass (None)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(1)
    return None


def _wait(check, what: str, timeout: float = 60, state=None) -> None:
    """poll(); on timeout, name what was awaited and, if given, state()."""
    if poll(check, timeout):
        return
    seen = f" (it is {state()!r})" if state else ""
    raise RuntimeError(
        f"timed out after {timeout:.0f}s waiting for {what}{seen}; logs in {STATE}/log"
    )


def _spawn(pids: dict, name: str, cmd: list[str]) -> None:
    log = open(STATE / "log" / f"{name}.out", "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    pids[name] = proc.pid
    (STATE / "pids.json").write_text(json.dumps(pids))


@contextlib.contextmanager
def held():
    """Hold this machine's cluster for the calling process alone, waiting while another holds it.

    A machine has one such cluster (its daemons, ports and STATE), and start() and stop() end
    whatever daemons and jobs are there: a second test session doing so mid-run would end the
    first one's jobs and leave it without a controller. The lock is a file lock, so it goes with
    its process, however that ends.
    """
    # The test extra's lock, as tests/conftest.py's integration run takes; only tests hold the
    # cluster, so install, start and stop run without it.
    from filelock import FileLock, Timeout

    STATE.mkdir(parents=True, exist_ok=True)
    lock = FileLock(STATE / "cluster.lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        print(f"waiting for the process holding {lock.lock_file} to let the SLURM cluster go",
              file=sys.stderr, flush=True)  # fmt: skip
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def start() -> None:
    """Configure SLURM for this machine and start munge, MariaDB, slurmdbd, slurmctld, slurmd."""
    install()
    stop()
    for sub in ("slurmctld", "slurmd", "log", "mysql-run"):
        (STATE / sub).mkdir(parents=True, exist_ok=True)
    for path in (STATE, STATE / "slurmctld", STATE / "log"):
        shutil.chown(path, "slurm", "slurm")
    shutil.chown(STATE / "mysql-run", "mysql", "mysql")
    CONF_DIR.mkdir(parents=True, exist_ok=True)
    (CONF_DIR / "slurm.conf").write_text(_slurm_conf())
    dbd = CONF_DIR / "slurmdbd.conf"
    dbd.write_text(_slurmdbd_conf())
    dbd.chmod(0o600)
    shutil.chown(dbd, "slurm", "slurm")
    pids: dict[str, int] = {}

    # munge: the key, then the daemon as the munge user.
    if not Path("/etc/munge/munge.key").exists():
        run(["mungekey", "--create"])
    shutil.chown("/etc/munge/munge.key", "munge", "munge")
    Path("/run/munge").mkdir(exist_ok=True)
    shutil.chown("/run/munge", "munge", "munge")
    _spawn(pids, "munged", ["runuser", "-u", "munge", "--", "munged", "--foreground"])
    _wait(lambda: run(["munge", "-n"], check=False).returncode == 0, "munged")

    socket_path = STATE / "mysql-run" / "mysqld.sock"
    _spawn(pids, "mariadbd", ["mariadbd", "--user=mysql", f"--socket={socket_path}",
                              "--skip-networking=0", "--bind-address=127.0.0.1"])  # fmt: skip
    sql = ["mariadb", f"--socket={socket_path}", "-e"]
    _wait(lambda: run([*sql, "SELECT 1"], check=False).returncode == 0, "MariaDB")
    # A fresh cluster each start, with no accounting left from an earlier one for sacct to show.
    grant = (
        "DROP DATABASE IF EXISTS slurm_acct_db;"
        f"CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '{DB_PASSWORD}';"
        "GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"
    )
    run([*sql, grant])
    # slurmdbd connects to "localhost", which the client library maps to the default socket.
    default_socket = Path("/run/mysqld/mysqld.sock")
    default_socket.parent.mkdir(exist_ok=True)
    if not default_socket.exists():
        default_socket.symlink_to(socket_path)

    _spawn(pids, "slurmdbd", ["slurmdbd", "-D"])
    _wait(lambda: run(["sacctmgr", "-n", "list", "cluster"], check=False).returncode == 0,
          "slurmdbd")  # fmt: skip
    user = getpass.getuser()
    for args in (
        ["add", "cluster", CLUSTER],
        ["add", "account", ACCOUNT, f"cluster={CLUSTER}"],
        ["add", "user", user, f"account={ACCOUNT}", f"cluster={CLUSTER}"],
    ):
        run(["sacctmgr", "-i", *args], check=False)  # "already exists" on a restart is fine

    # -c: start from an empty queue. Jobs saved by an earlier cluster that was killed mid-run
    # would otherwise be recovered as running and hold the node ("mix") indefinitely.
    _spawn(pids, "slurmctld", ["slurmctld", "-D", "-i", "-c"])
    _spawn(pids, "slurmd", ["slurmd", "-D"])

    def node_state() -> str:
        return run(["sinfo", "-h", "-o", "%t"], check=False).stdout.strip()

    _wait(lambda: node_state() == "idle", "the node to become idle", timeout=90, state=node_state)


def _is_running(pid: int, name: str) -> bool:
    try:
        return name.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _alive(pid: int, name: str) -> bool:
    """Still running. A daemon this process started stays a zombie after it exits until it
    is reaped, and a zombie still answers kill(pid, 0): reap it, then look."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass  # not our child: its parent reaps it
    return _is_running(pid, name)


def stop() -> None:
    """Stop the daemons this module started (by their recorded PIDs) and what this cluster's
    jobs left running, and leave the clients failing at once rather than waiting for a
    controller that is not there."""
    _stop_daemons()
    _end_job_leftovers()
    _quiet_clients()


def _end_job_leftovers() -> list[int]:
    """SIGKILL every process that a job of this cluster started and that outlived it; returns
    their PIDs. proctrack/linuxproc finds a job's processes through their parents, so one whose
    parent died (reparented to init) is out of slurmd's reach after a scancel or time limit. Its
    environment still names the job and this cluster. Never this process, its ancestors, or the
    job this process itself runs in (a test run inside another cluster's job)."""
    spared = {str(os.getpid())}
    pid = os.getppid()
    while pid > 1:
        spared.add(str(pid))
        pid = _parent(pid)
    own_job = os.environ.get("SLURM_JOB_ID")
    ended = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or entry.name in spared:
            continue
        try:
            env = dict(
                item.split(b"=", 1)
                for item in (entry / "environ").read_bytes().split(b"\0")
                if b"=" in item
            )
        except OSError:
            continue  # gone meanwhile, or a kernel thread
        job = env.get(b"SLURM_JOB_ID")
        if job is None or env.get(b"SLURM_CLUSTER_NAME") != CLUSTER.encode():
            continue
        if own_job is not None and job == own_job.encode():
            continue
        try:
            os.kill(int(entry.name), 9)
            ended.append(int(entry.name))
        except ProcessLookupError:
            pass
    return ended


def _parent(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat.rsplit(")", 1)[1].split()[1])  # the field after the state


def _quiet_clients() -> None:
    """A client retries a controller for MessageTimeout seconds (10 by default) before it
    fails, and every Snakemake start runs one (the SLURM executor plugin asks `scontrol show
    config` whichever executor is used): a stopped cluster's configuration says 1 second. Only
    a configuration this module wrote is touched; start() writes the full one again."""
    conf = CONF_DIR / "slurm.conf"
    if conf.is_file() and f"StateSaveLocation={STATE}/slurmctld\n" in conf.read_text():
        conf.write_text(_slurm_conf(message_timeout=1))


def _stop_daemons() -> None:
    pid_file = STATE / "pids.json"
    if not pid_file.exists():
        return
    pids = json.loads(pid_file.read_text())
    for name in ("slurmd", "slurmctld", "slurmdbd", "mariadbd", "munged"):
        pid = pids.get(name)
        if pid is None or not _is_running(pid, name):
            continue  # gone already; the PID may since belong to another process
        try:
            os.killpg(pid, 15)
        except ProcessLookupError:
            continue
        for _ in range(30):
            if not _alive(pid, name):
                break
            time.sleep(0.5)
        else:
            os.killpg(pid, 9)
    pid_file.unlink(missing_ok=True)  # another stop() may have removed it meanwhile


if __name__ == "__main__":
    actions = {"install": install, "start": start, "stop": stop}
    if len(sys.argv) != 2 or sys.argv[1] not in actions:
        sys.exit(f"usage: {sys.argv[0]} install|start|stop")
    actions[sys.argv[1]]()
