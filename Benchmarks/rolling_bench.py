"""A 5-step rollout over a fleet: Tasker's rolling block against the same steps
as five barrier hosts= tasks, and against Ansible playbooks with `strategy: free`
and `strategy: linear`.

Each step on each host sleeps a seeded random 0-2 s (the same delays for every
client, read from a file on the shared file system), so the slowest host's own
total is the floor: a client that runs each host's steps as its own pipeline
approaches it; one with a barrier per step pays the slowest host of every step.
Then the early stop: a broken release (`success=max_failed=1`, `max_parallel=5`)
over all hosts, counting the hosts it touched.
Run through Benchmarks/rolling.sh, which builds Tasker and brings the fleet up.
"""
import argparse
import json
import os
import random
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from bench import Fleet, ansible_env, best_of, close_control_masters, measure, report  # noqa: E402

STEPS = 5


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasker", required=True)
    parser.add_argument("--state", required=True)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--early-stop-hosts", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=24)
    parser.add_argument("--port", type=int, default=2200)
    args = parser.parse_args()

    fleet = Fleet(args.state, args.port)
    count = args.hosts
    work = tempfile.mkdtemp(prefix="tasker-rolling-bench-")
    inventory = f"{args.state}/inventory.ini"
    pattern = f"fleet[0:{count - 1}]"
    names = fleet.names[:count]
    generator = random.Random(args.seed)
    delays = {(host, step): round(generator.uniform(0, 2), 2) for host in names for step in range(1, STEPS + 1)}
    os.makedirs(f"{work}/delays")
    for (host, step), seconds in delays.items():
        with open(f"{work}/delays/{host}-{step}", "w") as out:
            out.write(f"{seconds}\n")
    floor = max(sum(delays[(host, step)] for step in range(1, STEPS + 1)) for host in names)
    barrier = sum(max(delays[(host, step)] for host in names) for step in range(1, STEPS + 1))

    def command(step, host_token):
        return f"sleep $(cat {work}/delays/{host_token}-{step})"

    rolling = f"{work}/rolling.txt"
    with open(rolling, "w") as out:
        out.write(f"task=10\ntype=rolling\nhosts={pattern}\ntasks={','.join(str(10 + s) for s in range(1, STEPS + 1))}\n")
        out.write(f"max_parallel={count}\n\n")
        for step in range(1, STEPS + 1):
            out.write(f"task={10 + step}\nexec=ssh_shell\ncommand={command(step, '@inventory_hostname@')}\n\n")
    barriers = f"{work}/barriers.txt"
    with open(barriers, "w") as out:
        for step in range(1, STEPS + 1):
            out.write(f"task={step}\nhosts={pattern}\nexec=ssh_shell\nmax_parallel={count}\ncommand={command(step, '@inventory_hostname@')}\n\n")

    def tasker(flow):
        return lambda: measure(fleet, [args.tasker, "-r", flow, "-i", inventory, "-F", fleet.ssh_config, "--forks", str(count),
                                       "-l", f"{work}/logs", "--no-task-backup"])

    def ansible(strategy):
        playbook = f"{work}/{strategy}.yml"
        with open(playbook, "w") as out:
            out.write(f"- hosts: '{pattern}'\n  gather_facts: false\n  strategy: {strategy}\n  tasks:\n")
            for step in range(1, STEPS + 1):
                # `shell`, as a deploy playbook is written (with pipelining: one ssh round trip per task and host).
                out.write(f"    - shell: {command(step, '{{ inventory_hostname }}')}\n")

        def run():
            control = tempfile.mkdtemp(prefix="cp-", dir=work)
            try:
                return measure(fleet, ["ansible-playbook", "-i", inventory, playbook], env=ansible_env(fleet, control, forks=count))
            finally:
                close_control_masters(control)
        return run

    rows = {}
    for name, run in [("tasker rolling block (one batch)", tasker(rolling)), ("tasker, 5 barrier hosts= tasks", tasker(barriers)),
                      ("ansible-playbook strategy: free", ansible("free")), ("ansible-playbook strategy: linear", ansible("linear"))]:
        rows[name] = best_of(args.repeats, run)
        print(f"{name}: {rows[name]['wall']:.2f} s", file=sys.stderr)
    # Each host's own total in a rolling run: from its first connection attempt to the end of its last step.
    journal = f"{work}/rolling.ndjson"
    measure(fleet, [args.tasker, "-r", rolling, "-i", inventory, "-F", fleet.ssh_config, "--forks", str(count),
                    "-l", f"{work}/logs", "--no-task-backup", "--journal", journal])
    first, last, wall = {}, {}, None
    with open(journal) as events:
        for line in events:
            event = json.loads(line)
            host, at = event.get("host"), event["t_ms"]
            if event["type"] == "host_connecting" and host not in first:
                first[host] = at
            elif event["type"] == "task_ended" and host and event.get("task", 0) > 10:
                last[host] = at
            elif event["type"] == "run_ended":
                wall = event["wall_ms"]
    own = max(last[host] - first.get(host, 0) for host in last) / 1000
    report(f"{STEPS}-step rollout over {count} hosts, each step 0-2 s per host (seed {args.seed}; median of {args.repeats})", rows,
           baseline="tasker rolling block (one batch)")
    base = rows["tasker rolling block (one batch)"]["wall"]
    print(f"\nslowest host's own total {floor:.2f} s; rolling block {base:.2f} s = {100 * (base / floor - 1):.1f}% over it; "
          f"barrier floor (sum of each step's slowest host) {barrier:.2f} s")
    print(f"journal of one rolling run: wall {wall / 1000:.2f} s, the slowest host's own total (connect to last step) {own:.2f} s: "
          f"{100 * (wall / 1000 / own - 1):.1f}% over it")
    for name, row in rows.items():
        if not name.startswith("tasker rolling"):
            print(f"rolling block is {row['wall'] / base:.1f}x faster than {name}")

    # Early stop: a broken release over every host of the fleet.
    total = min(args.early_stop_hosts, len(fleet.names))
    marker = f"{work}/touched"
    broken = f"{work}/broken.txt"
    with open(broken, "w") as out:
        out.write(f"task=10\ntype=rolling\nhosts=fleet[0:{total - 1}]\ntasks=11,12\nmax_parallel=5\nsuccess=max_failed=1\n\n")
        out.write(f"task=11\nexec=ssh_shell\ncommand=echo @inventory_hostname@ >> {marker}\n\n")
        out.write("task=12\nexec=ssh_shell\ncommand=sleep 0.2; false\n")
    measure(fleet, [args.tasker, "-r", broken, "-i", inventory, "-F", fleet.ssh_config, "-l", f"{work}/logs", "--no-task-backup"])
    with open(marker) as touched:
        hosts = len(set(touched.read().split()))
    print(f"early stop: a broken release over {total} hosts (max_failed=1, max_parallel=5) touched {hosts} hosts")
    print(json.dumps({"floor_s": floor, "rolling_s": base, "touched": hosts}))


if __name__ == "__main__":
    main()
