"""Download benchmark: our delivery path vs ``curl -o``, same file, same loopback server.

The simulator serves a padded MP4 of --size bytes (generated on the fly in 1 MiB chunks). Each
downloader runs in a fresh process; ours reports its RSS just before the download and the peak
RSS during it (sampled every 5 ms), so the growth is what the download itself costs.

    python bench/download.py --size-mb 1024 --size-mb 200
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from airflow_provider_kling.simulator.process import SimulatorProcess

API_KEY = "bench-key"

CHILD = r"""
import json, os, sys, threading, time
import psutil
from airflow_provider_kling.delivery import deliver_video
from airflow_provider_kling.hooks.kling import KlingHook

generation_id, destination = sys.argv[1], sys.argv[2]
hook = KlingHook()
hook.get_generation(generation_id)  # warm: connection settings, sessions, imports
proc = psutil.Process()
before = proc.memory_info().rss
peak = before
running = True
def sample():
    global peak
    while running:
        peak = max(peak, proc.memory_info().rss)
        time.sleep(0.005)
threading.Thread(target=sample, daemon=True).start()
started = time.perf_counter()
delivery = deliver_video(hook, destination=destination, generation_id=generation_id, poster=False)
elapsed = time.perf_counter() - started
running = False
print(json.dumps({"seconds": elapsed, "size": delivery.size, "rss_before": before, "rss_peak": peak}))
"""


def run_ours(generation_id: str, destination: str, env: dict[str, str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, generation_id, destination], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_curl(url: str, destination: str, *, fsync: bool = False) -> dict:
    """curl -o; with fsync=True also flush the file to disk, as our atomic publish does."""
    started = time.perf_counter()
    subprocess.run(["curl", "-sS", "-o", destination, url], check=True)
    if fsync:
        with open(destination, "rb") as f:
            os.fsync(f.fileno())
    return {"seconds": time.perf_counter() - started, "size": os.path.getsize(destination)}


def bench(size: int, repeats: int) -> dict:
    with SimulatorProcess("--api-key", API_KEY, "--generation-seconds", "0.2", "--video-size", str(size)) as sim:
        env = {
            **os.environ,
            "AIRFLOW_CONN_KLING_DEFAULT": json.dumps({"conn_type": "kling", "host": sim.url, "password": API_KEY}),
        }
        os.environ.update({"AIRFLOW_CONN_KLING_DEFAULT": env["AIRFLOW_CONN_KLING_DEFAULT"]})
        from airflow_provider_kling.hooks.kling import KlingHook

        hook = KlingHook()
        generation_id = hook.submit_generation("download benchmark")
        time.sleep(0.5)
        url = hook.get_generation(generation_id).video_url
        ours, curl, curl_fsync = [], [], []
        with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
            for i in range(repeats):
                curl.append(run_curl(url, f"{tmp}/curl.mp4"))
                os.unlink(f"{tmp}/curl.mp4")
                curl_fsync.append(run_curl(url, f"{tmp}/curl.mp4", fsync=True))
                os.unlink(f"{tmp}/curl.mp4")
                ours.append(run_ours(generation_id, f"{tmp}/ours-{i}.mp4", env))
                for leftover in Path(tmp).glob("ours-*"):
                    leftover.unlink()
    best = {
        name: min(r["seconds"] for r in runs)
        for name, runs in (("ours", ours), ("curl", curl), ("curl_fsync", curl_fsync))
    }
    mib = size / 2**20
    return {
        "size_mib": round(mib),
        "curl_mib_s": round(mib / best["curl"], 1),
        "curl_fsync_mib_s": round(mib / best["curl_fsync"], 1),
        "ours_mib_s": round(mib / best["ours"], 1),
        "ours_vs_curl": round(best["curl"] / best["ours"], 3),
        "ours_vs_curl_fsync": round(best["curl_fsync"] / best["ours"], 3),
        "peak_rss_growth_mib": round(max(r["rss_peak"] - r["rss_before"] for r in ours) / 2**20, 1),
        "rss_before_mib": round(min(r["rss_before"] for r in ours) / 2**20, 1),
        "repeats": repeats,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--size-mb", type=int, action="append", help="file size in MiB (repeatable; default 1024 and 200)"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "results" / "download.json")
    args = parser.parse_args()
    rows = [bench(mb * 2**20, args.repeats) for mb in (args.size_mb or [1024, 200])]
    print(
        f"{'size MiB':>9} {'curl MiB/s':>11} {'curl+fsync':>11} {'ours MiB/s':>11} {'ours/curl':>10} "
        f"{'ours/curl+fsync':>16} {'peak RSS growth MiB':>20}"
    )
    for row in rows:
        print(
            f"{row['size_mib']:>9} {row['curl_mib_s']:>11} {row['curl_fsync_mib_s']:>11} {row['ours_mib_s']:>11} "
            f"{row['ours_vs_curl']:>10} {row['ours_vs_curl_fsync']:>16} {row['peak_rss_growth_mib']:>20}"
        )
    print("ours = stream + sha256 + MP4/length checks + fsync + atomic rename + sidecar (best of --repeats)")
    print("targets: ours/curl >= 0.80, peak RSS growth < 20 MiB")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=2))
    return 0


def machine() -> dict:
    import platform

    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


if __name__ == "__main__":
    sys.exit(main())
