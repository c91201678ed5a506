"""A 10-step workflow over a fleet: Tasker against Ansible ad-hoc and pdsh.

The same ten commands run on the same hosts, one step after another, each
step on every host before the next starts:
  * tasker: one task file, ten `hosts=` tasks, one pooled connection per host;
  * ansible: `ansible GROUP -m raw -a CMD` once per step, with pipelining and
    ControlPersist on (fresh control sockets per measurement, so step 1 pays
    for the masters and steps 2-10 reuse them);
  * pdsh: `pdsh -w ^hosts CMD` once per step (a new ssh per host per step).
Run through Benchmarks/workflow_fleet.sh, which builds Tasker and brings the fleet up.
"""
import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from bench import Fleet, ansible_env, best_of, close_control_masters, measure, report  # noqa: E402

STEPS = [f"echo step {i} $(cat /proc/loadavg)" for i in range(1, 11)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasker", required=True)
    parser.add_argument("--state", required=True)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--port", type=int, default=2200)
    args = parser.parse_args()

    fleet = Fleet(args.state, args.port)
    count = args.hosts
    work = tempfile.mkdtemp(prefix="tasker-wf-bench-")
    pattern = f"fleet[0:{count - 1}]"
    inventory = f"{args.state}/inventory.ini"
    names = fleet.hosts_file(count)

    flow = f"{work}/flow.txt"
    with open(flow, "w") as out:
        for index, command in enumerate(STEPS):
            out.write(f"task={index}\nhosts={pattern}\nexec=ssh_shell\ncommand={command}\n\n")

    def tasker():
        return measure(fleet, [args.tasker, "-r", flow, "-i", inventory, "-F", fleet.ssh_config, "--forks", str(count),
                               "-l", f"{work}/logs", "--no-task-backup"])

    def ansible():
        control = tempfile.mkdtemp(prefix="cp-", dir=work)
        steps = " && ".join(f"ansible '{pattern}' -i {inventory} -f {count} -m raw -a {quote(command)}" for command in STEPS)
        try:
            return measure(fleet, steps, env=ansible_env(fleet, control), shell=True)
        finally:
            close_control_masters(control)

    def pdsh():
        env = {"PDSH_SSH_ARGS_APPEND": f"-F {fleet.ssh_config}", "PDSH_RCMD_TYPE": "ssh"}
        steps = " && ".join(f"pdsh -f {count} -w ^{names} {quote(command)}" for command in STEPS)
        return measure(fleet, steps, env=env, shell=True)

    rows = {}
    for name, run in [("tasker", tasker), ("ansible -m raw (pipelining, ControlPersist)", ansible), ("pdsh", pdsh)]:
        rows[name] = best_of(args.repeats, run)
        print(f"{name}: {rows[name]['wall']:.2f} s", file=sys.stderr)
    report(f"10-step workflow over {count} hosts (median of {args.repeats})", rows)
    base = rows["tasker"]["wall"]
    for name, row in rows.items():
        if name != "tasker":
            print(f"\ntasker is {row['wall'] / base:.1f}x faster than {name}", end="")
    print()


def quote(text):
    return "'" + text.replace("'", "'\\''") + "'"


if __name__ == "__main__":
    main()
