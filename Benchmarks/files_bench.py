"""Push and pull across the fleet with every peer, measured in the same run.
Run through Benchmarks/files.sh, which installs the peers and starts the fleet.
Workloads: push, pull (cold: each client's run opens its connections) and
push-warm, pull-warm (over connections the client already holds).

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


def warm_rows(args, fleet, count, source, direction, repeats):
    """Transfers over connections the client already holds. Tasker runs a workflow
    whose first task connects every host (`true`) and whose second pushes or
    pulls; the transfer's time is that workflow's minus the connect-only one's.
    parallel-ssh connects with run_command('true') and times copy_file /
    copy_remote_file alone, in the same process."""
    names = fleet.hosts_file(count)
    addresses = fleet.hosts_file(count, addresses=True)
    target = f"{WORK}/dest" if direction == "push" else f"{WORK}/pulled"
    connect = f"--default-exec=ssh\ntask=0\nhosts=fleet\ncommand=true\nmax_parallel={count}\n"
    if direction == "push":
        step = f"task=1\nhosts=fleet\nexec=ssh_push\ncommand={source}\narguments={target}/{{host}}.bin\nmax_parallel={count}\n"
    else:
        step = f"task=1\nhosts=fleet\nexec=ssh_pull\ncommand={source}\narguments={target}\nmax_parallel={count}\n"
    flows = {}
    for name, text in [("connect", connect), ("transfer", connect + step)]:
        flows[name] = f"{WORK}/warm-{name}.txt"
        with open(flows[name], "w") as out:
            out.write(text)

    def tasker(flow):
        return with_cleanup(target, lambda: measure(fleet, [args.tasker, "-r", flow, "-F", fleet.ssh_config, "-i", inventory(fleet, count),
                                                             "-l", f"{WORK}/logs", "--log-level=ERROR", "--no-task-backup"]))

    def seconds(values):
        return sorted(values)[len(values) // 2]

    connect_runs = [tasker(flows["connect"])() for _ in range(repeats)]
    transfer_runs = [tasker(flows["transfer"])() for _ in range(repeats)]
    failed = sum(1 for run in connect_runs + transfer_runs if run["status"] != 0)
    rows = {"tasker (workflow: connect, then transfer)": {
        "wall": seconds([r["wall"] for r in transfer_runs]) - seconds([r["wall"] for r in connect_runs]),
        "cpu": seconds([r["cpu"] for r in transfer_runs]) - seconds([r["cpu"] for r in connect_runs]), "failed_runs": failed}}
    call = (f"client.copy_file('{source}', '{target}/same.bin')" if direction == "push"
            else f"client.copy_remote_file('{source}', '{target}/file.bin')")
    script = f"""
import time
from pssh.clients import ParallelSSHClient
from gevent import joinall
hosts = [l.strip() for l in open('{addresses}') if l.strip()]
client = ParallelSSHClient(hosts, user='{args.user}', pkey='{fleet.key}', port={fleet.port}, pool_size=len(hosts), timeout=120)
client.join(client.run_command('true'))
cpu, started = time.process_time(), time.monotonic()
joinall({call}, raise_error=True)
print(time.monotonic() - started, time.process_time() - cpu)
"""
    walls, cpus, failed = [], [], 0
    for _ in range(repeats):
        fresh(target)
        result = subprocess.run(["python3", "-c", script], capture_output=True, text=True)
        if result.returncode != 0:
            failed += 1
            continue
        wall, cpu = map(float, result.stdout.split())
        walls.append(wall)
        cpus.append(cpu)
    rows[f"parallel-ssh {'copy_file' if direction == 'push' else 'copy_remote_file'}"] = {
        "wall": seconds(walls) if walls else float("nan"), "cpu": seconds(cpus) if cpus else float("nan"), "failed_runs": failed}
    return rows


def warm_report(title, rows, megabytes):
    print(f"\n### {title}\n")
    print("| client | transfer wall s | client CPU s | aggregate MB/s | tasker wall ÷ client | failed runs |")
    print("|---|---|---|---|---|---|")
    base = next(iter(rows.values()))["wall"]
    for name, row in rows.items():
        print(f"| {name} | {row['wall']:.2f} | {row['cpu']:.2f} | {megabytes / row['wall']:.0f} | {base / row['wall']:.2f} "
              f"| {row['failed_runs']} |")


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
        for direction in ["push", "pull"]:
            if f"{direction}-warm" in workloads:
                rows = warm_rows(args, fleet, count, source, direction, args.repeats)
                preposition = "to" if direction == "push" else "from"
                warm_report(f"{direction} {megabytes} MiB {preposition} {count} hosts, warm connections", rows, total)


if __name__ == "__main__":
    main()
