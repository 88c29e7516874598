"""Download benchmark: our delivery path vs ``curl -o``, same file, same loopback server.

The simulator serves a padded MP4 of --size bytes (generated on the fly in 1 MiB chunks). Each
downloader runs in a fresh process, interleaved, --repeats times; the table shows the median and the
best. Ours reports its RSS just before the download and the peak RSS during it, so the growth is
what the download itself costs. The peak is the kernel's own high-water mark (VmHWM, reset through
/proc/self/clear_refs just before the download): exact, and free. Where that is not available it
falls back to sampling RSS every 5 ms from a thread, which costs the download itself 10-30 %
(it competes for the GIL with the streaming loop), so such figures are pessimistic.

    python bench/download.py --size-mb 1024 --size-mb 200
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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
from airflow_provider_kling.delivery import deliver_video
from airflow_provider_kling.hooks.kling import KlingHook

generation_id, destination = sys.argv[1], sys.argv[2]
hook = KlingHook()
hook.get_generation(generation_id)  # warm: connection settings, sessions, imports


def rss_kb(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))


try:
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # resets VmHWM to the current RSS
    sampler = None
except OSError:
    import psutil

    proc = psutil.Process()
    sampler = {"peak": proc.memory_info().rss, "running": True}

    def sample():
        while sampler["running"]:
            sampler["peak"] = max(sampler["peak"], proc.memory_info().rss)
            time.sleep(0.005)

    threading.Thread(target=sample, daemon=True).start()
before = rss_kb("VmRSS") * 1024 if sampler is None else sampler["peak"]
started = time.perf_counter()
delivery = deliver_video(hook, destination=destination, generation_id=generation_id, poster=False)
elapsed = time.perf_counter() - started
if sampler is None:
    peak, method = rss_kb("VmHWM") * 1024, "VmHWM"
else:
    sampler["running"] = False
    peak, method = sampler["peak"], "sampled every 5 ms"
print(json.dumps({"seconds": elapsed, "size": delivery.size, "rss_before": before, "rss_peak": peak, "rss_method": method}))
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
    mib = size / 2**20
    row: dict = {"size_mib": round(mib), "repeats": repeats}
    for stat, pick in (("median", statistics.median), ("best", min)):
        seconds = {
            name: pick([r["seconds"] for r in runs])
            for name, runs in (("ours", ours), ("curl", curl), ("curl_fsync", curl_fsync))
        }
        row[stat] = {
            "curl_mib_s": round(mib / seconds["curl"], 1),
            "curl_fsync_mib_s": round(mib / seconds["curl_fsync"], 1),
            "ours_mib_s": round(mib / seconds["ours"], 1),
            "ours_vs_curl": round(seconds["curl"] / seconds["ours"], 3),
            "ours_vs_curl_fsync": round(seconds["curl_fsync"] / seconds["ours"], 3),
        }
    row["peak_rss_growth_mib"] = round(max(r["rss_peak"] - r["rss_before"] for r in ours) / 2**20, 1)
    row["rss_before_mib"] = round(min(r["rss_before"] for r in ours) / 2**20, 1)
    row["rss_method"] = ours[0]["rss_method"]
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--size-mb", type=int, action="append", help="file size in MiB (repeatable; default 1024 and 200)"
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "results" / "download.json")
    args = parser.parse_args()
    rows = [bench(mb * 2**20, args.repeats) for mb in (args.size_mb or [1024, 200])]
    print(
        f"{'size MiB':>9} {'stat':>7} {'curl MiB/s':>11} {'curl+fsync':>11} {'ours MiB/s':>11} {'ours/curl':>10} "
        f"{'ours/curl+fsync':>16} {'peak RSS growth MiB':>20}"
    )
    for row in rows:
        for stat in ("median", "best"):
            r = row[stat]
            print(
                f"{row['size_mib']:>9} {stat:>7} {r['curl_mib_s']:>11} {r['curl_fsync_mib_s']:>11} {r['ours_mib_s']:>11} "
                f"{r['ours_vs_curl']:>10} {r['ours_vs_curl_fsync']:>16} {row['peak_rss_growth_mib']:>20}"
            )
    print(f"peak RSS: {rows[0]['rss_method']}; median and best of --repeats runs of each, interleaved")
    print("ours = stream + sha256 + MP4/length checks + fsync + atomic rename + sidecar")
    print("targets: ours/curl >= 0.80, peak RSS growth < 20 MiB")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=2))
    return 0


def machine() -> dict:
    import platform

    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


if __name__ == "__main__":
    sys.exit(main())
