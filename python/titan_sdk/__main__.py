"""``python -m titan_sdk``: Titan's ``titan_cli.py deploy`` and a few everyday commands.

    python -m titan_sdk deploy pipeline.yaml [--wait] [--timeout SECONDS] [--agent-run ID]
    python -m titan_sdk status <job>            # Titan's status word
    python -m titan_sdk logs <job> [--follow]
    python -m titan_sdk approve|reject <gate> [--comment TEXT]

The master's address and token come from TITAN_HOST, TITAN_PORT and TITAN_TOKEN, or --host,
--port and --token (which ps shows to other users: prefer TITAN_TOKEN). The YAML is parsed and
validated by the master (no YAML package needed).
Exit codes: 0 success; 1 a failure (an error reply, a run that did not complete, a timeout);
2 bad usage.
"""

import argparse
import sys
from typing import List, Optional

from . import __version__
from .client import TitanClient
from .errors import TitanError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m titan_sdk", description="Titan's Python command line (v2 protocol).")
    parser.add_argument("--host", help="the master's host (default: TITAN_HOST, else 127.0.0.1)")
    parser.add_argument("--port", type=int, help="the master's port (default: TITAN_PORT, else 9090)")
    parser.add_argument("--token", help="the cluster token (default: TITAN_TOKEN); visible to other local users in ps: prefer TITAN_TOKEN")
    parser.add_argument("--version", action="version", version="titan_sdk " + __version__)
    commands = parser.add_subparsers(dest="command", metavar="command")

    deploy = commands.add_parser("deploy", help="submit a pipeline YAML file (Titan's titan_cli.py deploy)")
    deploy.add_argument("file", help="the pipeline file")
    deploy.add_argument("--wait", action="store_true", help="follow the run until it ends (or its services are up)")
    deploy.add_argument("--timeout", type=float, default=None, help="with --wait: give up after this many seconds (exit 1)")
    deploy.add_argument("--agent-run", dest="agent_run", help="group the run under this agent run id")

    status = commands.add_parser("status", help="a job's status in Titan's words (DAG-<id> accepted)")
    status.add_argument("job")

    logs = commands.add_parser("logs", help="a job's output")
    logs.add_argument("job")
    logs.add_argument("--follow", "-f", action="store_true", help="stream it until the job ends")

    for name in ("approve", "reject"):
        decide = commands.add_parser(name, help="{} an approval gate".format(name))
        decide.add_argument("gate", help="runId/gateId, or a gate id such as hitl-gate-<job>")
        decide.add_argument("--comment")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_usage(sys.stderr)
        print("Usage: python -m titan_sdk deploy <agent.yaml>", file=sys.stderr)
        return 2
    client = TitanClient(host=args.host, port=args.port, token=args.token)
    try:
        return _run(client, args)
    except TitanError as err:
        print("error: {}".format(err), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        client.close()


def _run(client: TitanClient, args: argparse.Namespace) -> int:
    if args.command == "deploy":
        result = client.submit_yaml(args.file, agent_run_id=args.agent_run, wait=args.wait, timeout=args.timeout)
        if result is False:
            print("[CLI] Deploy Response: DAG_ACCEPTED (run {}), but it did not settle within {:g} s".format(client.last_run_id, args.timeout))
            return 1
        if result == "SCHEDULED":
            print("[CLI] Deploy Response: SCHEDULED (schedule registered; it submits the run at each fire time)")
            return 0
        print("[CLI] Deploy Response: {} (run {})".format(result, result.run_id))
        if not args.wait:
            return 0
        for job in (result.view or {}).get("jobs", []):
            line = "  {:<24} {}".format(job["spec"]["id"], job["status"])
            if job.get("error"):
                line += "  " + str(job["error"])
            print(line)
        print("[CLI] Run {}: {}".format(result.run_id, "services up" if result.status == "RUNNING" else result.status))
        return 0 if result.ok else 1
    if args.command == "status":
        print(client.get_job_status(args.job))
        return 0
    if args.command == "logs":
        if args.follow:
            stream = client.follow_logs(args.job)
            for text in stream:
                sys.stdout.write(text)
                sys.stdout.flush()
            return 0 if stream.status == "COMPLETED" else 1
        sys.stdout.write(client.fetch_logs(args.job))
        return 0
    if args.command in ("approve", "reject"):
        decide = client.approve if args.command == "approve" else client.reject
        decision = decide(args.gate, comment=args.comment)
        print("{} {}".format(decision["ref"], "approved" if decision["approved"] else "rejected"))
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
