"""Tasker against its peers on the local sshd fleet, measured in the same run.

Each measurement runs a peer as a child process and reads its wall time and,
through wait4, the CPU (user+sys) and peak RSS of the client process tree.
sshd's CPU on the same cores is read from the listeners' /proc counters and
reported separately. Run through Benchmarks/run.sh, which builds Tasker and
brings the fleet up.
"""
import argparse
import glob
import os
import statistics
import subprocess
import time

TICKS = os.sysconf("SC_CLK_TCK")


class Fleet:
    def __init__(self, state, port):
        self.state = state
        self.port = port
        self.ssh_config = f"{state}/ssh_config"
        self.key = f"{state}/client_ed25519"
        self.names = [line.strip() for line in open(f"{state}/hosts") if line.strip()]
        self.addresses = {}
        current = None
        for line in open(self.ssh_config):
            words = line.split()
            if len(words) == 2 and words[0] == "Host" and words[1] != "*":
                current = words[1]
            elif len(words) == 2 and words[0] == "HostName" and current:
                self.addresses[current] = words[1]

    def hosts_file(self, count, addresses=False):
        path = f"{self.state}/bench-hosts-{count}{'-addr' if addresses else ''}"
        with open(path, "w") as out:
            for name in self.names[:count]:
                out.write((self.addresses[name] if addresses else name) + "\n")
        return path

    def sshd_cpu_seconds(self):
        total = 0
        for pidfile in glob.glob(f"{self.state}/sshd-*/sshd.pid"):
            try:
                pid = open(pidfile).read().strip()
                fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
                total += sum(int(value) for value in fields[11:15])
            except OSError:
                pass
        return total / TICKS


def ansible_env(fleet, control, forks=None):
    """Ansible at its fastest over the fleet: pipelining, ControlPersist in `control`, the fleet's key and ssh_config."""
    env = {
        "ANSIBLE_PIPELINING": "True",
        "ANSIBLE_SSH_ARGS": f"-F {fleet.ssh_config} -o ControlMaster=auto -o ControlPersist=60s",
        "ANSIBLE_SSH_CONTROL_PATH_DIR": control,
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_REMOTE_USER": "root",
        "ANSIBLE_PRIVATE_KEY_FILE": fleet.key,
        "ANSIBLE_LOCALHOST_WARNING": "False",
    }
    if forks:
        env["ANSIBLE_FORKS"] = str(forks)
    return env


def close_control_masters(control):
    os.system(f"for s in {control}/*; do [ -S \"$s\" ] && ssh -o ControlPath=\"$s\" -O exit x 2>/dev/null; done")


def measure(fleet, argv, env=None, shell=False):
    """Runs one client; returns wall seconds, client CPU seconds, peak RSS KiB, sshd CPU seconds, status."""
    sshd_before = fleet.sshd_cpu_seconds()
    started = time.monotonic()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env={**os.environ, **(env or {})}, shell=shell)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - started
    stderr = process.stderr.read().decode(errors="replace")
    time.sleep(0.3)  # let sshd reap its session processes
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_kb": usage.ru_maxrss,
        "sshd_cpu": fleet.sshd_cpu_seconds() - sshd_before,
        "status": os.waitstatus_to_exitcode(status),
        "stderr": stderr.strip().splitlines()[-1:] if stderr.strip() else [],
    }


def best_of(repeats, run):
    results = [run() for _ in range(repeats)]
    median_wall = statistics.median(r["wall"] for r in results)
    chosen = min(results, key=lambda r: abs(r["wall"] - median_wall))
    chosen["failed_runs"] = sum(1 for r in results if r["status"] != 0)
    return chosen


def tasker_argv(tasker, fleet, hosts_file, forks, commands, extra=()):
    argv = [tasker, "exec", "-F", fleet.ssh_config, "--hosts-file", hosts_file, "--forks", str(forks), *extra]
    for command in commands:
        argv += ["-c", command]
    return argv


def peers_for(args, fleet, count, rounds, command):
    names = fleet.hosts_file(count)
    addresses = fleet.hosts_file(count, addresses=True)
    ssh = f"ssh -F {fleet.ssh_config}"
    pdsh_env = {"PDSH_SSH_ARGS_APPEND": f"-F {fleet.ssh_config}", "PDSH_RCMD_TYPE": "ssh"}
    peers = {
        "tasker": lambda: measure(fleet, tasker_argv(args.tasker, fleet, names, count, [command] * rounds)),
        "parallel-ssh": lambda: measure(fleet, ["python3", os.path.join(os.path.dirname(__file__), "pssh_client.py"),
                                                "--hosts-file", addresses, "--user", args.user, "--key", fleet.key,
                                                "--port", str(fleet.port), "--rounds", str(rounds), "--command", command]),
        "pdsh": lambda: measure(fleet, f"for i in $(seq {rounds}); do pdsh -f {count} -w ^{names} {command} || exit 1; done",
                                env=pdsh_env, shell=True),
        "ssh (xargs -P)": lambda: measure(fleet, f"for i in $(seq {rounds}); do xargs -P {count} -I{{}} {ssh} {{}} {command} < {names} || exit 1; done",
                                          shell=True),
    }
    if rounds > 1:
        control = f"-o ControlMaster=auto -o ControlPath={fleet.state}/cm-%C -o ControlPersist=60"
        def controlmaster():
            # Warm the masters first (not timed), then run the rounds through them.
            subprocess.run(f"xargs -P {count} -I{{}} {ssh} {control} {{}} true < {names}", shell=True, check=True)
            try:
                return measure(fleet, f"for i in $(seq {rounds}); do xargs -P {count} -I{{}} {ssh} {control} {{}} {command} < {names} || exit 1; done",
                               shell=True)
            finally:
                subprocess.run(f"xargs -P {count} -I{{}} {ssh} {control} -O exit {{}} < {names} 2>/dev/null", shell=True)
        peers["ssh ControlMaster (warm)"] = controlmaster
    return peers


def report(title, rows, baseline="tasker"):
    print(f"\n### {title}\n")
    print("| client | wall s | client CPU s | peak RSS MiB | sshd CPU s | tasker wall ÷ peer | tasker CPU ÷ peer | failed runs |")
    print("|---|---|---|---|---|---|---|---|")
    base = rows[baseline]
    for name, row in rows.items():
        wall_ratio = base["wall"] / row["wall"] if row["wall"] else 0
        cpu_ratio = base["cpu"] / row["cpu"] if row["cpu"] else 0
        print(f"| {name} | {row['wall']:.3f} | {row['cpu']:.3f} | {row['rss_kb'] / 1024:.1f} | {row['sshd_cpu']:.2f} "
              f"| {wall_ratio:.2f} | {cpu_ratio:.2f} | {row['failed_runs']} |")
        if row["failed_runs"] and row["stderr"]:
            print(f"|  ↳ {name}: {row['stderr'][0][:120]} | | | | | | | |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasker", required=True)
    parser.add_argument("--state", required=True)
    parser.add_argument("--port", type=int, default=2200)
    parser.add_argument("--user", default=os.environ.get("USER", "root"))
    parser.add_argument("--hosts", type=int, nargs="+", default=[50])
    parser.add_argument("--scale", type=int, default=0, help="hosts for the scale run (0 to skip)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workloads", default="W1,W2,W3,SCALE")
    args = parser.parse_args()
    fleet = Fleet(args.state, args.port)
    workloads = set(args.workloads.split(","))
    print(f"Fleet: {len(fleet.names)} hosts; {os.cpu_count()} cores; median of {args.repeats} runs.")

    for count in args.hosts:
        if "W1" in workloads:
            peers = peers_for(args, fleet, count, 1, "true")
            report(f"W1: `true` once on {count} hosts, cold", {name: best_of(args.repeats, run) for name, run in peers.items()})
        if "W2" in workloads:
            peers = peers_for(args, fleet, count, 10, "true")
            report(f"W2: 10 commands in a row on each of {count} hosts",
                   {name: best_of(args.repeats, run) for name, run in peers.items()})

    if "W3" in workloads:
        one = fleet.names[0]
        command = "head -c 1073741824 /dev/zero"
        rows = {
            "tasker": best_of(args.repeats, lambda: measure(fleet, [args.tasker, "exec", "-F", fleet.ssh_config, "-H", one, "--json", "--", command])),
            "ssh host cmd >/dev/null": best_of(args.repeats, lambda: measure(fleet, ["ssh", "-F", fleet.ssh_config, one, command])),
        }
        report("W3: 1 GiB of stdout from one host", rows)
        print(f"\nW3 throughput: tasker {1024 / rows['tasker']['wall']:.0f} MiB/s, ssh {1024 / rows['ssh host cmd >/dev/null']['wall']:.0f} MiB/s "
              f"({100 * rows['ssh host cmd >/dev/null']['wall'] / rows['tasker']['wall']:.0f}% of ssh)")

    if "SCALE" in workloads and args.scale:
        hosts = fleet.hosts_file(args.scale)
        row = best_of(1, lambda: measure(fleet, tasker_argv(args.tasker, fleet, hosts, args.scale, ["true"])))
        report(f"SCALE: `true` on {args.scale} hosts at once (--forks {args.scale})", {"tasker": row})


if __name__ == "__main__":
    main()
