"""parallel-ssh peer for the benchmarks: one ParallelSSHClient (pool_size = hosts),
reused for every round, output consumed and exit codes read as a user would."""
import argparse
import sys

from pssh.clients import ParallelSSHClient

parser = argparse.ArgumentParser()
parser.add_argument("--hosts-file", required=True)
parser.add_argument("--user", required=True)
parser.add_argument("--key", required=True)
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--rounds", type=int, default=1)
parser.add_argument("--command", required=True)
parser.add_argument("--proxy-host", help="a bastion to tunnel through (parallel-ssh's proxy_host)")
parser.add_argument("--proxy-port", type=int, default=22)
parser.add_argument("--sudo", action="store_true", help="run the command through sudo (parallel-ssh's sudo=True)")
parser.add_argument("--sudo-password", help="written to each command's stdin for sudo's prompt")
args = parser.parse_args()

hosts = [line.strip() for line in open(args.hosts_file) if line.strip()]
proxy = {}
if args.proxy_host:
    proxy = dict(proxy_host=args.proxy_host, proxy_port=args.proxy_port, proxy_user=args.user, proxy_pkey=args.key)
client = ParallelSSHClient(hosts, user=args.user, pkey=args.key, port=args.port,
                           pool_size=len(hosts), num_retries=1, timeout=60, **proxy)
failures = 0
for _ in range(args.rounds):
    output = client.run_command(args.command, sudo=args.sudo, stop_on_errors=False)
    if args.sudo_password:
        for host_output in output:
            host_output.stdin.write(args.sudo_password + "\n")
            host_output.stdin.flush()
    client.join(output)
    for host_output in output:
        for _line in host_output.stdout or []:
            pass
        if host_output.exception is not None or host_output.exit_code != 0:
            failures += 1
sys.exit(1 if failures else 0)
