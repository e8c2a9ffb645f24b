#!/usr/bin/env python3
"""Checks jetbench's NVML helper on a GPU (issue 14): energy from the cumulative counter against
power integrated over time, for a light and a heavy (power-capped) load, with the clocks and clock
event reasons seen. Prints one JSON line per case.

  python3 nvml_check.py [HZ]
"""
import json
import os
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
HELPER = os.path.join(HERE, "..", "..", "device-agent", "python", "jetbench_nvml.py")
hz = sys.argv[1] if len(sys.argv) > 1 else "10"


def trapezoid(samples, key, t0, t1):
    pts = [(s["t"], s[key]) for s in samples if key in s and t0 <= s["t"] <= t1]
    return sum((b[0] - a[0]) * (a[1] + b[1]) / 2 for a, b in zip(pts, pts[1:])) / 1e6, (pts[0][0], pts[-1][0]) if pts else (None, None)


def case(kind, seconds):
    helper = subprocess.Popen([sys.executable, HELPER, "--hz", hz], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    samples, marks = [], {}
    hello = json.loads(helper.stdout.readline())

    def read():
        for line in helper.stdout:
            samples.append(json.loads(line))

    threading.Thread(target=read, daemon=True).start()
    load = subprocess.Popen([sys.executable, os.path.join(HERE, "gpu_load.py"), kind, str(seconds), "2"], stdout=subprocess.PIPE, text=True)
    import time
    for line in load.stdout:
        marks[line.split()[0]] = time.monotonic() * 1000.0
    load.wait()
    time.sleep(0.3)
    helper.stdin.close()
    helper.wait()
    t0, t1 = marks["start"], marks["done"]
    inside = [s for s in samples if t0 <= s["t"] <= t1]
    # Counter energy over exactly the samples used for the integrals.
    e_int, (a, b) = trapezoid(samples, "powerMw", t0, t1)
    e_avg, _ = trapezoid(samples, "powerAvgMw", t0, t1)
    first = next(s for s in samples if s["t"] == a)
    last = next(s for s in samples if s["t"] == b)
    e_counter = (last["energyMj"] - first["energyMj"]) / 1000.0
    reasons = 0
    for s in inside:
        reasons |= s.get("reasons", 0)
    idle = [s for s in samples if marks["context"] + 300 <= s["t"] <= t0 - 100]
    return {
        "case": kind, "seconds": seconds, "hz": float(hz), "gpu": hello.get("hello"),
        "samples": len(inside), "window_s": round((b - a) / 1000, 3),
        "energy_counter_J": round(e_counter, 2), "energy_instant_integrated_J": round(e_int, 2),
        "energy_avg_integrated_J": round(e_avg, 2),
        "instant_vs_counter": round(e_int / e_counter - 1, 4), "avg_vs_counter": round(e_avg / e_counter - 1, 4),
        "mean_power_W": round(e_counter / ((b - a) / 1000), 1),
        "idle_power_W": round(sum(s["powerMw"] for s in idle) / max(1, len(idle)) / 1000, 1) if idle else None,
        "sm_mhz_min": min(s["smMhz"] for s in inside), "sm_mhz_max": max(s["smMhz"] for s in inside),
        "reasons_or": hex(reasons), "max_temp_C": max(s["tempC"] for s in inside),
    }


for kind, seconds in (("light", 10), ("heavy", 15)):
    print(json.dumps(case(kind, seconds)), flush=True)
