"""Polls per video and completion-detection delay: fixed intervals vs our adaptive schedule.

Generations follow the simulator's realistic timing (``realistic_timings``: queued U(10, 60) s, then
generating U(120, 240) s). Each schedule is replayed on a simulated clock with the exact
decision code the trigger runs (``WaitProgress`` + ``delay_after``); HTTP latency is ignored, so
delay = time of the first poll that sees "completed" minus the completion time.

    python bench/polls_per_video.py --videos 5000
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from airflow_provider_kling.models import Generation
from airflow_provider_kling.simulator.app import realistic_timings
from airflow_provider_kling.waiting import WaitProgress, delay_after


def status_at(t: float, queued: float, generating: float) -> str:
    if t < queued:
        return "queued"
    return "generating" if t < queued + generating else "completed"


def replay(queued: float, generating: float, interval: float, adaptive: bool) -> tuple[int, float]:
    """Poll from t=0 (right after submission) until completion is seen; return (polls, delay)."""
    done_at = queued + generating
    progress = WaitProgress("sim", started=0.0)
    t, polls = 0.0, 0
    while True:
        polls += 1
        status = status_at(t, queued, generating)
        generation = Generation.from_api(
            {"id": "sim", "status": status, "video": {"url": "u"} if status == "completed" else None}
        )
        progress.observe(generation, t)
        if status == "completed":
            return polls, t - done_at
        t += delay_after(progress, interval, 1e9, t) if adaptive else interval


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "results" / "polls_per_video.json")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    videos = [realistic_timings(rng) for _ in range(args.videos)]
    schedules = [
        ("fixed 5 s", 5, False),
        ("fixed 10 s", 10, False),
        ("fixed 15 s (docs)", 15, False),
        ("adaptive, poll_interval=10", 10, True),
    ]
    rows = []
    for name, interval, adaptive in schedules:
        results = [replay(q, g, interval, adaptive) for q, g in videos]
        polls = [p for p, _ in results]
        delays = [d for _, d in results]
        rows.append(
            {
                "schedule": name,
                "polls_mean": round(statistics.mean(polls), 2),
                "delay_p50": round(percentile(delays, 0.50), 2),
                "delay_p95": round(percentile(delays, 0.95), 2),
                "delay_max": round(max(delays), 2),
            }
        )
    fixed10 = next(r for r in rows if r["schedule"] == "fixed 10 s")["polls_mean"]
    print(
        f"{'schedule':<28} {'polls/video':>12} {'vs fixed 10 s':>14} {'delay p50 s':>12} {'delay p95 s':>12} {'max s':>7}"
    )
    for row in rows:
        row["vs_fixed_10s"] = round(row["polls_mean"] / fixed10, 3)
        print(
            f"{row['schedule']:<28} {row['polls_mean']:>12} {row['vs_fixed_10s']:>14} {row['delay_p50']:>12} "
            f"{row['delay_p95']:>12} {row['delay_max']:>7}"
        )
    print(f"{args.videos} simulated videos; target: adaptive <= 0.70 x fixed-10 s polls with p95 delay <= 10 s")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"videos": args.videos, "seed": args.seed, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
