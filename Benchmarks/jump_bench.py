"""Tasker against its peers reaching targets through one bastion, in the same run.

W1: `true` once on N targets behind the bastion of `scripts/fleet.sh
bastion-up`, each client as its users run it through a jump host: Tasker
(ProxyJump in ssh_config, sessions carried by pooled bastion connections),
OpenSSH `ssh -J` through `xargs -P` (a bastion connection and an `ssh -W`
process per target), parallel-ssh with `proxy_host`, and `ansible -m raw`
(ssh with ProxyJump). Reports wall time, the client process tree's CPU, the
bastion sshd's CPU and how many connections the bastion accepted. Run through
Benchmarks/jump.sh, which builds Tasker and brings the layout up per RTT.
"""
import argparse
import os
import signal
import subprocess
import threading

from bench import best_of

TICKS = os.sysconf("SC_CLK_TCK")


class BastionLayout:
    def __init__(self, state):
        self.state = state
        self.ssh_config = f"{state}/ssh_config"
        self.key = f"{state}/client_ed25519"
        self.names = [line.strip() for line in open(f"{state}/hosts") if line.strip()]

    def hosts_file(self, count, addresses=False):
        path = f"{self.state}/bench-{count}{'-addr' if addresses else ''}"
        with open(path, "w") as out:
            for index in range(1, count + 1):
                out.write((f"127.0.{1 + (index - 1) // 250}.{1 + (index - 1) % 250}" if addresses
                           else self.names[index - 1]) + "\n")
        return path

    def inventory(self, count):
        path = f"{self.state}/bench-{count}.ini"
        with open(path, "w") as out:
            out.write("[behind]\n" + "\n".join(self.names[:count]) + "\n")
        return path

    def bastion_cpu_seconds(self):
        """The bastion listener's CPU with that of its reaped session processes."""
        try:
            pid = open(f"{self.state}/bastion/sshd.pid").read().strip()
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            return sum(int(value) for value in fields[11:15]) / TICKS
        except OSError:
            return 0.0

    def bastion_logins(self):
        with open(f"{self.state}/bastion/sshd.log", errors="replace") as log:
            return sum(1 for line in log if "Accepted publickey" in line)


# A client that takes longer than this (5 minutes) is stopped and counted as a failed run.
LIMIT_SECONDS = 300


def measure(layout, argv, env=None, shell=False):
    cpu_before = layout.bastion_cpu_seconds()
    logins_before = layout.bastion_logins()
    started = os.times().elapsed
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env={**os.environ, **(env or {})}, shell=shell, start_new_session=True)
    limit = threading.Timer(LIMIT_SECONDS, lambda: os.killpg(process.pid, signal.SIGKILL))
    limit.start()
    _, status, usage = os.wait4(process.pid, 0)
    limit.cancel()
    wall = os.times().elapsed - started
    stderr = process.stderr.read().decode(errors="replace")
    subprocess.run(["sleep", "0.5"])  # let the bastion reap its session processes
    return {
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "bastion_cpu": layout.bastion_cpu_seconds() - cpu_before,
        "bastion_connections": layout.bastion_logins() - logins_before,
        "status": os.waitstatus_to_exitcode(status),
        "stderr": stderr.strip().splitlines()[-1:] if stderr.strip() else [],
    }


def tasker(args, layout, names, count, tunnels=None):
    extra = ["--tunnels-per-jump-connection", str(tunnels)] if tunnels else []
    return measure(layout, [args.tasker, "exec", "-F", layout.ssh_config, "--hosts-file", names,
                            "--forks", str(count), *extra, "--", "true"])


def peers(args, layout, count):
    names = layout.hosts_file(count)
    addresses = layout.hosts_file(count, addresses=True)
    here = os.path.dirname(os.path.abspath(__file__))
    rows = {"tasker": lambda: tasker(args, layout, names, count)}
    for tunnels in args.sweep:
        rows[f"tasker, {tunnels} tunnels per bastion connection"] = (
            lambda tunnels=tunnels: tasker(args, layout, names, count, tunnels))
    if args.tasker_only:
        return rows
    return rows | {
        "ssh -J (xargs -P)": lambda: measure(
            layout, f"xargs -P {count} -I{{}} ssh -F {layout.ssh_config} {{}} true < {names}", shell=True),
        "parallel-ssh proxy_host": lambda: measure(layout, [
            "python3", f"{here}/pssh_client.py", "--hosts-file", addresses, "--user", args.user, "--key", layout.key,
            "--port", "2223", "--proxy-host", "127.0.30.1", "--proxy-port", "2200", "--command", "true"]),
        "ansible -m raw": lambda: measure(layout, [
            "ansible", "behind", "-i", layout.inventory(count), "-m", "raw", "-a", "true", "-f", str(count),
            "--ssh-common-args", f"-F {layout.ssh_config}"], env={"ANSIBLE_HOST_KEY_CHECKING": "True",
                                                                   "ANSIBLE_PYTHON_INTERPRETER": "auto_silent"}),
    }


def report(title, rows, count, tunnels):
    print(f"\n### {title}\n")
    print("| client | wall s | client CPU s | bastion sshd CPU s | bastion connections | tasker wall ÷ peer | failed runs |")
    print("|---|---|---|---|---|---|---|")
    base = rows["tasker"]
    for name, row in rows.items():
        ratio = base["wall"] / row["wall"] if row["wall"] else 0
        print(f"| {name} | {row['wall']:.2f} | {row['cpu']:.2f} | {row['bastion_cpu']:.2f} | {row['bastion_connections']} "
              f"| {ratio:.2f} | {row['failed_runs']} |")
        if row["failed_runs"] and row["stderr"]:
            print(f"|  ↳ {name}: {row['stderr'][0][:120]} | | | | | | |")
    peers_wall = [row["wall"] for name, row in rows.items() if not name.startswith("tasker") and not row["failed_runs"]]
    if peers_wall:
        print(f"\nTasker ÷ fastest peer: {base['wall'] / min(peers_wall):.2f}; bastion connections {base['bastion_connections']}"
              f" (ceil({count} / {tunnels}) = {-(-count // tunnels)})")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasker", required=True)
    parser.add_argument("--state", required=True)
    parser.add_argument("--user", default=os.environ.get("USER", "root"))
    parser.add_argument("--hosts", type=int, nargs="+", default=[100])
    parser.add_argument("--rtt", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tunnels", type=int, default=16, help="Tasker's default tunnels per bastion connection")
    parser.add_argument("--sweep", type=int, nargs="*", default=[],
                        help="also run Tasker with these --tunnels-per-jump-connection values")
    parser.add_argument("--tasker-only", action="store_true", help="skip the peers (for the sweep)")
    args = parser.parse_args()
    layout = BastionLayout(args.state)
    for count in args.hosts:
        rows = {name: best_of(args.repeats, run) for name, run in peers(args, layout, count).items()}
        report(f"W1 through a bastion: `true` on {count} targets, +{args.rtt} ms RTT to the bastion "
               f"({os.cpu_count()} cores, median of {args.repeats})", rows, count, args.tunnels)


if __name__ == "__main__":
    main()
