"""Run every benchmark in turn (each a separate process, each bounded), then render the report.

Run: ``python benchmarks/run_all.py [--quick]`` (what ``nox -s bench`` does). ``--quick``
makes every benchmark small (a smoke run); its results go to a scratch directory and
BENCHMARKS.md is left alone.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

FULL: list[list[str]] = [
    ["bench_parse.py"],
    ["bench_overhead.py"],
    ["bench_webhooks.py"],
    ["bench_billing.py"],
    ["bench_sync.py"],
    ["bench_paid.py"],
    ["bench_stripe.py"],
]
QUICK: list[list[str]] = [
    ["bench_parse.py", "--invoices", "100", "--repeat", "3"],
    ["bench_overhead.py", "--calls", "300", "--repeat", "2"],
    ["bench_webhooks.py", "--deliveries", "50", "--repeat", "1", "--in-process", "500"],
    [
        "bench_billing.py",
        "--members",
        "30",
        "--scale",
        "60",
        "--also-scale",
        "--worker-members",
        "10",
    ],
    ["bench_sync.py", "--invoices", "1000", "--repeat", "1"],
    ["bench_paid.py", "--payments", "10", "--many", "600", "--repeat", "1"],
    [
        "bench_stripe.py",
        "--members",
        "10",
        "--rate-members",
        "40",
        "--workers",
        "2",
        "--ledger-operations",
        "100",
        "--stores",
        "memory",
        "sqlite",
    ],
]
TIMEOUT = 900.0
"""Seconds any one benchmark may take before it is stopped."""


def main() -> None:
    """Run the benchmarks, then ``render.py``; exit 1 if any benchmark failed."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="*", default=None, help="e.g. bench_parse.py")
    args = parser.parse_args()
    failed = []
    env = dict(os.environ)
    if args.quick:  # a smoke run: keep its small numbers out of the report
        env["AMS_BENCH_RESULTS"] = tempfile.mkdtemp(prefix="ams-bench-quick-")
    for command in QUICK if args.quick else FULL:
        if args.only and command[0] not in args.only:
            continue
        print(f"== {' '.join(command)}", flush=True)
        try:
            done = subprocess.run(  # noqa: S603 - our own scripts
                [sys.executable, str(HERE / command[0]), *command[1:]],
                cwd=HERE.parent,
                timeout=TIMEOUT,
                check=False,
                env=env,
            )
            if done.returncode:
                failed.append(command[0])
        except subprocess.TimeoutExpired:
            failed.append(f"{command[0]} (timed out)")
    if args.quick:
        print(f"quick results (not rendered): {env['AMS_BENCH_RESULTS']}")
    else:
        render = [sys.executable, str(HERE / "render.py")]
        subprocess.run(render, cwd=HERE.parent, check=True)  # noqa: S603 - our own script
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
