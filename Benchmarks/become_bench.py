"""W2 through become: each client logs in as `tasker-bench` (created here) and
runs `true` 10 times on every host as root, first with a sudo that asks for
the user's password, then with NOPASSWD sudo. Tasker without --become is the
baseline become is measured against. Run through Benchmarks/become.sh.

On the simulated fleet every host's sudo runs on the controller's cores: sudo's
own start-up (~7 ms of CPU) and, with a password, PAM's password hash are paid
once per command by every client, and bound what any of them can reach."""
import argparse
import os
import secrets
import subprocess

from bench import Fleet, best_of, measure, report, tasker_argv

USER = "tasker-bench"
ROUNDS = 10


def ensure_user(password):
    if subprocess.run(["id", USER], capture_output=True).returncode != 0:
        subprocess.run(["useradd", "-M", "-d", "/tmp", "-s", "/bin/sh", USER], check=True)
    subprocess.run(["chpasswd"], input=f"{USER}:{password}\n".encode(), check=True)


def sudoers(rule):
    with open("/etc/sudoers.d/tasker-bench", "w") as out:
        out.write(f"{USER} ALL=(ALL:ALL) {rule}\n")
    os.chmod("/etc/sudoers.d/tasker-bench", 0o440)




def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasker", required=True)
    parser.add_argument("--state", required=True)
    parser.add_argument("--port", type=int, default=2200)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    fleet = Fleet(args.state, args.port)
    count = args.hosts
    password = "bench-" + secrets.token_hex(8)
    ensure_user(password)
    names = fleet.hosts_file(count)
    addresses = fleet.hosts_file(count, addresses=True)
    password_file = f"{args.state}/become-password"
    with open(os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
        out.write(password + "\n")
    inventory = f"{args.state}/become-inventory.ini"
    with open(inventory, "w") as out:
        out.write("[fleet]\n" + "".join(f"{name}\n" for name in fleet.names[:count]))
        out.write(f"\n[fleet:vars]\nansible_user={USER}\nansible_become_password={password}\n")
    control = f"-F {fleet.ssh_config} -o ControlMaster=auto -o ControlPersist=60s -o ControlPath={args.state}/ansible-cm-%C"
    ansible_env = {"ANSIBLE_SSH_ARGS": control, "ANSIBLE_HOST_KEY_CHECKING": "False", "ANSIBLE_PRIVATE_KEY_FILE": fleet.key}
    login = ["-l", USER]
    baseline = best_of(args.repeats, lambda: measure(fleet, tasker_argv(args.tasker, fleet, names, count, ["true"] * ROUNDS, login)))
    print(f"Fleet: {count} hosts; {os.cpu_count()} cores; median of {args.repeats} runs; login {USER}.")
    for rule, title in [("ALL", "sudo asks for the password"), ("NOPASSWD: ALL", "NOPASSWD sudo")]:
        sudoers(rule)
        peers = {
            "tasker --become": lambda: measure(fleet, tasker_argv(args.tasker, fleet, names, count, ["true"] * ROUNDS,
                                                                  login + ["--become", "--become-password-file", password_file])),
            "ansible -m raw --become": lambda: measure(
                fleet, f"for i in $(seq {ROUNDS}); do ansible fleet -i {inventory} -f {count} -m raw -a true --become >/dev/null || exit 1; done",
                env=ansible_env, shell=True),
            "parallel-ssh sudo=True": lambda: measure(fleet, [
                "python3", os.path.join(os.path.dirname(__file__), "pssh_client.py"), "--hosts-file", addresses, "--user", USER,
                "--key", fleet.key, "--port", str(fleet.port), "--rounds", str(ROUNDS), "--command", "true", "--sudo",
                *(["--sudo-password", password] if rule == "ALL" else [])]),
        }
        rows = {"tasker (no become)": baseline}
        rows.update({name: best_of(args.repeats, run) for name, run in peers.items()})
        report(f"W2 through become ({title}): {ROUNDS} commands in a row as root on each of {count} hosts", rows,
               baseline="tasker --become")
        become = rows["tasker --become"]["wall"]
        fastest_peer = min(row["wall"] for name, row in rows.items() if not name.startswith("tasker"))
        print(f"\nbecome costs Tasker {become / baseline['wall']:.2f}x its own W2 (target <= 1.3); "
              f"Tasker with become takes {become / fastest_peer:.2f}x the fastest peer's time (target <= 0.5)")


if __name__ == "__main__":
    main()
