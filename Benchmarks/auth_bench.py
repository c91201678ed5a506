"""W1 cold with each kind of user key: Tasker, parallel-ssh and `xargs ssh`
authenticate with the same key file. The fleet's authorized_keys gains the
RSA-3072 and ECDSA keys for the run. Run through Benchmarks/auth.sh."""
import argparse
import os
import subprocess

from bench import Fleet, best_of, measure, report


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasker", required=True)
    parser.add_argument("--state", required=True)
    parser.add_argument("--port", type=int, default=2200)
    parser.add_argument("--user", default=os.environ.get("USER", "root"))
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    fleet = Fleet(args.state, args.port)
    count = args.hosts
    names = fleet.hosts_file(count)
    addresses = fleet.hosts_file(count, addresses=True)

    keys = {"ed25519": fleet.key}
    authorized = f"{args.state}/authorized_keys"
    original = open(authorized).read()
    for kind, options in [("rsa-3072", ["-t", "rsa", "-b", "3072"]), ("ecdsa-p256", ["-t", "ecdsa", "-b", "256"])]:
        path = f"{args.state}/bench_{kind}"
        if not os.path.exists(path):
            subprocess.run(["ssh-keygen", "-q", "-N", "", "-f", path, *options], check=True)
        keys[kind] = path
    # An ssh_config without the fleet key, so each client offers only the key under test.
    config = f"{args.state}/ssh_config_auth"
    with open(config, "w") as out:
        for line in open(fleet.ssh_config):
            if "IdentityFile" not in line:
                out.write(line)
    try:
        with open(authorized, "a") as out:
            for kind in ("rsa-3072", "ecdsa-p256"):
                out.write(open(keys[kind] + ".pub").read())
        print(f"Fleet: {count} hosts; {os.cpu_count()} cores; median of {args.repeats} runs.")
        tasker_cpu = {}
        for kind, key in keys.items():
            ssh = f"ssh -F {config} -i {key} -o IdentitiesOnly=yes -o IdentityAgent=none"
            peers = {
                "tasker": lambda key=key: measure(fleet, [args.tasker, "exec", "-F", config, "-k", key, "--hosts-file", names,
                                                           "--forks", str(count), "--", "true"], env={"SSH_AUTH_SOCK": ""}),
                "parallel-ssh": lambda key=key: measure(fleet, ["python3", os.path.join(os.path.dirname(__file__), "pssh_client.py"),
                                                                "--hosts-file", addresses, "--user", args.user, "--key", key,
                                                                "--port", str(fleet.port), "--command", "true"]),
                "ssh (xargs -P)": lambda: measure(fleet, f"xargs -P {count} -I{{}} {ssh} {{}} true < {names}", shell=True),
            }
            rows = {name: best_of(args.repeats, run) for name, run in peers.items()}
            report(f"W1 with {kind} user keys: `true` once on {count} hosts, cold", rows)
            tasker_cpu[kind] = rows["tasker"]["cpu"]
        print("\nTasker client CPU against ed25519: " + ", ".join(
            f"{kind} {100 * (cpu / tasker_cpu['ed25519'] - 1):+.0f}%" for kind, cpu in tasker_cpu.items() if kind != "ed25519"))
    finally:
        open(authorized, "w").write(original)


if __name__ == "__main__":
    main()
