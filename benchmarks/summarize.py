#!/usr/bin/env python3
"""Turns the raw JMH and C baseline results of one run.sh run into summary.json and summary.md.

One record per performance target of shared/DESIGN.md: name, ours, peer, ratio, target, met.
"""
import json
import os
import statistics
import sys


def jmh(path):
    """benchmark method name -> (score, unit) from a JMH JSON result file."""
    with open(path) as f:
        rows = json.load(f)
    return {r["benchmark"].rsplit(".", 1)[1]: (r["primaryMetric"]["score"], r["primaryMetric"]["scoreUnit"])
            for r in rows}


def c_baseline(path, key):
    with open(path) as f:
        values = [float(line.split()[1]) for line in f if line.startswith(key)]
    return statistics.median(values)


def main(raw, out):
    records = []
    spawn_json = os.path.join(raw, "spawn.json")
    if os.path.exists(spawn_json):
        spawn = jmh(spawn_json)
        ours_us = spawn["umhFlux"][0]
        pb_us = spawn["processBuilder"][0]
        c_us = c_baseline(os.path.join(raw, "spawn_c.txt"), "ns_per_op") / 1000.0
        records.append({
            "name": "spawn + exit, speed-up over ProcessBuilder",
            "ours": round(ours_us, 1), "peer": round(pb_us, 1), "unit": "us/op",
            "ratio": round(pb_us / ours_us, 2), "target": ">= 2.0", "met": pb_us / ours_us >= 2.0,
        })
        records.append({
            "name": "spawn + exit, time relative to C posix_spawn",
            "ours": round(ours_us, 1), "peer": round(c_us, 1), "unit": "us/op",
            "ratio": round(ours_us / c_us, 2), "target": "<= 1.3", "met": ours_us / c_us <= 1.3,
        })
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(records, f, indent=2)
        f.write("\n")
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write("| target | ours | peer | unit | ratio | goal | met |\n|---|---|---|---|---|---|---|\n")
        for r in records:
            f.write("| {name} | {ours} | {peer} | {unit} | {ratio} | {target} | {met} |\n".format(
                **{**r, "met": "met" if r["met"] else "NOT met"}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
