"""Push and pull across the fleet with every peer, measured in the same run.
Run through Benchmarks/files.sh, which installs the peers and starts the fleet.

The fleet's hosts share this machine's file system. Tasker and Ansible write
one file per host ({host} / inventory_hostname); the other tools cannot name
a per-host destination, so all of their hosts write the same path, which
costs them less page cache than the one-file-per-host clients."""
import argparse
import os
import shutil
import subprocess

from bench import Fleet, best_of, measure

WORK = "/tmp/tasker-files-bench"


def report(title, rows, megabytes):
    print(f"\n### {title}\n")
    print("| client | wall s | client CPU s | peak RSS MiB | sshd CPU s | aggregate MB/s | tasker wall ÷ client | failed runs |")
    print("|---|---|---|---|---|---|---|---|")
    base = rows["tasker"]["wall"]
    for name, row in rows.items():
        rate = megabytes / row["wall"] if row["wall"] else 0
        print(f"| {name} | {row['wall']:.2f} | {row['cpu']:.2f} | {row['rss_kb'] / 1024:.0f} | {row['sshd_cpu']:.1f} "
              f"| {rate:.0f} | {base / row['wall']:.2f} | {row['failed_runs']} |")
        if row["failed_runs"] and row["stderr"]:
            print(f"|  ↳ {name}: {row['stderr'][0][:120]} | | | | | | | |")


def fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path, exist_ok=True)


def with_cleanup(path, run):
    def wrapped():
        fresh(path)
        return run()
    return wrapped


def inventory(fleet, count):
    path = f"{WORK}/inventory-{count}.ini"
    with open(path, "w") as out:
        out.write("[fleet]\n")
        for name in fleet.names[:count]:
            out.write(f"{name} ansible_host={fleet.addresses[name]} ansible_port={fleet.port}\n")
    return path


def push_peers(args, fleet, count, source):
    names = fleet.hosts_file(count)
    addresses = fleet.hosts_file(count, addresses=True)
    dest = f"{WORK}/dest"
    ssh_opts = f"-F {fleet.ssh_config}"
    env_ansible = {"ANSIBLE_HOST_KEY_CHECKING": "False", "ANSIBLE_SSH_ARGS": f"{ssh_opts} -o ControlMaster=no",
                   "ANSIBLE_PIPELINING": "True", "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3"}
    return {
        "tasker": with_cleanup(dest, lambda: measure(fleet, [args.tasker, "push", "-F", fleet.ssh_config, "--hosts-file", names,
                                                              "--forks", str(count), source, f"{dest}/{{host}}.bin"])),
        "parallel-ssh copy_file": with_cleanup(dest, lambda: measure(fleet, ["python3", "-c", f"""
from pssh.clients import ParallelSSHClient
from gevent import joinall
hosts = [l.strip() for l in open('{addresses}') if l.strip()]
client = ParallelSSHClient(hosts, user='{args.user}', pkey='{fleet.key}', port={fleet.port}, pool_size=len(hosts), timeout=120)
joinall(client.copy_file('{source}', '{dest}/same.bin'), raise_error=True)
"""])),
        "parallel-scp (pssh)": with_cleanup(dest, lambda: measure(fleet, ["parallel-scp", "-h", names, "-p", str(count), "-t", "0",
                                                                 "-x", ssh_opts, source, f"{dest}/same.bin"])),
        "pdcp": with_cleanup(dest, lambda: measure(fleet, ["pdcp", "-f", str(count), "-w", f"^{names}", source, f"{dest}/same.bin"],
                                                    env={"PDSH_SSH_ARGS_APPEND": ssh_opts, "PDSH_RCMD_TYPE": "ssh"})),
        "clush --copy": with_cleanup(dest, lambda: measure(fleet, ["clush", "-f", str(count), "-o", ssh_opts, "--hostfile", names,
                                                                    "--copy", source, "--dest", f"{dest}/same.bin"])),
        "ansible -m copy": with_cleanup(dest, lambda: measure(fleet, ["ansible", "all", "-i", inventory(fleet, count), "-f", str(count),
                                                                       "-m", "copy", "-a", f"src={source} dest={dest}/{{{{ inventory_hostname }}}}.bin"],
                                                               env=env_ansible)),
        "ceiling: ssh 'cat >/dev/null' (xargs -P)": lambda: measure(
            fleet, f"xargs -P {count} -I{{}} sh -c 'ssh {ssh_opts} {{}} \"cat >/dev/null\" < {source}' < {names}", shell=True),
    }


def pull_peers(args, fleet, count, remote):
    names = fleet.hosts_file(count)
    addresses = fleet.hosts_file(count, addresses=True)
    local = f"{WORK}/pulled"
    ssh_opts = f"-F {fleet.ssh_config}"
    env_ansible = {"ANSIBLE_HOST_KEY_CHECKING": "False", "ANSIBLE_SSH_ARGS": f"{ssh_opts} -o ControlMaster=no",
                   "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3"}
    return {
        "tasker": with_cleanup(local, lambda: measure(fleet, [args.tasker, "pull", "-F", fleet.ssh_config, "--hosts-file", names,
                                                               "--forks", str(count), remote, local])),
        "parallel-ssh copy_remote_file": with_cleanup(local, lambda: measure(fleet, ["python3", "-c", f"""
from pssh.clients import ParallelSSHClient
from gevent import joinall
hosts = [l.strip() for l in open('{addresses}') if l.strip()]
client = ParallelSSHClient(hosts, user='{args.user}', pkey='{fleet.key}', port={fleet.port}, pool_size=len(hosts), timeout=120)
joinall(client.copy_remote_file('{remote}', '{local}/file.bin'), raise_error=True)
"""])),
        "parallel-slurp (pssh)": with_cleanup(local, lambda: measure(fleet, ["parallel-slurp", "-h", names, "-p", str(count), "-t", "0", "-x", ssh_opts,
                                                               "-L", local, remote, "file.bin"])),
        "rpdcp": with_cleanup(local, lambda: measure(fleet, ["rpdcp", "-f", str(count), "-w", f"^{names}", remote, local],
                                                      env={"PDSH_SSH_ARGS_APPEND": ssh_opts, "PDSH_RCMD_TYPE": "ssh"})),
        "clush --rcopy": with_cleanup(local, lambda: measure(fleet, ["clush", "-f", str(count), "-o", ssh_opts, "--hostfile", names,
                                                                      "--rcopy", remote, "--dest", local])),
        "ansible -m fetch": with_cleanup(local, lambda: measure(fleet, ["ansible", "all", "-i", inventory(fleet, count), "-f", str(count),
                                                                         "-m", "fetch", "-a", f"src={remote} dest={local}/"],
                                                                 env=env_ansible)),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasker", required=True)
    parser.add_argument("--state", required=True)
    parser.add_argument("--port", type=int, default=2200)
    parser.add_argument("--user", default=os.environ.get("USER", "root"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workloads", default="push,pull")
    args = parser.parse_args()
    fleet = Fleet(args.state, args.port)
    os.makedirs(WORK, exist_ok=True)
    workloads = set(args.workloads.split(","))
    print(f"Fleet: {len(fleet.names)} hosts; {os.cpu_count()} cores; median of {args.repeats} runs.")
    for count, megabytes in [(50, 100), (200, 1)]:
        source = f"{WORK}/source-{megabytes}M.bin"
        if not os.path.exists(source):
            subprocess.run(["head", "-c", str(megabytes << 20), "/dev/urandom"], stdout=open(source, "wb"), check=True)
        total = count * megabytes * 1.048576
        if "push" in workloads:
            rows = {name: best_of(args.repeats, run) for name, run in push_peers(args, fleet, count, source).items()}
            report(f"push {megabytes} MiB to {count} hosts, cold", rows, total)
        if "pull" in workloads:
            rows = {name: best_of(args.repeats, run) for name, run in pull_peers(args, fleet, count, source).items()}
            report(f"pull {megabytes} MiB from {count} hosts, cold", rows, total)


if __name__ == "__main__":
    main()
