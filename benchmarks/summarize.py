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


def jmh_params(path):
    """(benchmark method, params dict) -> score, from a JMH JSON result file."""
    with open(path) as f:
        rows = json.load(f)
    return {(r["benchmark"].rsplit(".", 1)[1], tuple(sorted(r.get("params", {}).items()))): r["primaryMetric"]["score"]
            for r in rows}


def c_baseline(path, key, prefix=""):
    with open(path) as f:
        values = [float(line.split()[-1]) for line in f if line.startswith(prefix) and key in line]
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
    echo_json = os.path.join(raw, "echo.json")
    if os.path.exists(echo_json):
        echo = jmh_params(echo_json)
        total = 64 << 20
        gbps = lambda ms: total / (ms / 1000.0) / 1e9
        for chunk, goal in ((4096, 1.5), (65536, 1.0), (1048576, None)):
            key = (("chunk", str(chunk)), ("pipeSize", "0"))
            ours, pb = gbps(echo[("umhFlux", key)]), gbps(echo[("processBuilder", key)])
            c = c_baseline(os.path.join(raw, "echo_c.txt"), "bytes_per_sec", "chunk=%d " % chunk) / 1e9
            records.append({
                "name": "echo through cat, %d B chunks, vs ProcessBuilder" % chunk,
                "ours": round(ours, 2), "peer": round(pb, 2), "unit": "GB/s", "ratio": round(ours / pb, 2),
                "target": ">= %.1f" % goal if goal else "(none)", "met": ours / pb >= goal if goal else True,
            })
            if chunk == 65536:
                records.append({
                    "name": "echo through cat, 64 KiB chunks, vs C read/write",
                    "ours": round(ours, 2), "peer": round(c, 2), "unit": "GB/s", "ratio": round(ours / c, 2),
                    "target": ">= 0.9", "met": ours / c >= 0.9,
                })
        big = os.path.join(raw, "echo_bigpipe.json")
        if os.path.exists(big):
            ours = gbps(jmh_params(big)[("umhFlux", (("chunk", "65536"), ("pipeSize", "1048576")))])
            c = c_baseline(os.path.join(raw, "echo_c.txt"), "bytes_per_sec", "chunk=65536 ") / 1e9
            records.append({
                "name": "echo through cat, 1 MiB pipes, vs C on default pipes",
                "ours": round(ours, 2), "peer": round(c, 2), "unit": "GB/s", "ratio": round(ours / c, 2),
                "target": ">= 1.2", "met": ours / c >= 1.2,
            })
    typed_json = os.path.join(raw, "typed.json")
    if os.path.exists(typed_json):
        typed = jmh_params(typed_json)
        for size, count, goal in (("small", 200_000, 1.0), ("large", 1_000, None)):
            key = (("size", size),)
            ours = count / typed[("umhFlux", key)] * 1000.0
            pb = count / typed[("processBuilder", key)] * 1000.0
            records.append({
                "name": "Kryo %s messages echoed through cat, vs ProcessBuilder + Kryo" % size,
                "ours": round(ours), "peer": round(pb), "unit": "messages/s", "ratio": round(ours / pb, 2),
                "target": ">= %.1f" % goal if goal else "(none)", "met": ours / pb >= goal if goal else True,
            })
            if ("nuProcess", key) in typed:
                nu = count / typed[("nuProcess", key)] * 1000.0
                records.append({
                    "name": "Kryo %s messages echoed through cat, vs NuProcess + Kryo" % size,
                    "ours": round(ours), "peer": round(nu), "unit": "messages/s", "ratio": round(ours / nu, 2),
                    "target": ">= 2.0" if goal else "(none)", "met": ours / nu >= 2.0 if goal else True,
                })
    many = os.path.join(raw, "many.json")
    if os.path.exists(many):
        with open(many) as f:
            m = json.loads(f.read().strip().splitlines()[-1])
        records.append({
            "name": "%d concurrent streaming helpers: JVM threads" % m["helpers"],
            "ours": m["threads_max"], "peer": m["threads_limit"], "unit": "threads",
            "ratio": round(m["threads_max"] / m["threads_limit"], 2), "target": "<= 2 x cores + 8",
            "met": m["threads_max"] <= m["threads_limit"],
        })
        records.append({
            "name": "%d concurrent streaming helpers: peak used heap" % m["helpers"],
            "ours": m["heap_max_mib"], "peer": 64, "unit": "MiB", "ratio": round(m["heap_max_mib"] / 64, 2),
            "target": "bounded (<= 64 MiB)", "met": m["heap_max_mib"] <= 64,
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
