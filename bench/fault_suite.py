"""Fault suite: N generations submitted with KlingHook and awaited with KlingGenerationTrigger
against a simulator failing a share of all requests (5xx with HTML bodies, 429 with and without
Retry-After, resets, answers slower than the client timeout, malformed JSON).

Checks: every generation completes and the simulator created exactly one generation per job.

    python bench/fault_suite.py --generations 200 --fault-rate 0.3
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.fault_suite import run_fault_suite


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generations", type=int, default=200)
    parser.add_argument("--fault-rate", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args()
    result = run_fault_suite(args.generations, args.fault_rate, args.seed)
    for key, value in result.items():
        print(f"{key:<28} {value}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    ok = (
        result["completed"] == args.generations
        and result["jobs_with_several_creates"] == 0
        and result["creates"] == args.generations
    )
    print("RESULT:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
