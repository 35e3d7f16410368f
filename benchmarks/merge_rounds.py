#!/usr/bin/env python3
"""Joins the JMH JSON results of several single-fork invocations (run.sh's interleaved rounds) into one file, as if
each benchmark had run in that many forks: a benchmark's forks follow the order of the files given, so fork i of
every benchmark is round i, and summarize.py pairs the sides by round. Each score becomes the mean over all
iterations; scoreError and the percentiles, which one fork's iterations gave, are dropped.

usage: merge_rounds.py OUT.json ROUND.json...
"""
import json
import statistics
import sys


def merge_metric(into, metric):
    into["rawData"].extend(metric.get("rawData", []))


def finish_metric(metric):
    values = [v for fork in metric["rawData"] for v in fork]
    if values:
        metric["score"] = statistics.mean(values)
    metric["scoreError"] = "NaN"
    metric.pop("scoreConfidence", None)
    metric.pop("scorePercentiles", None)


def main(out, paths):
    merged = {}  # (benchmark, params) -> row, in the order first seen
    for path in paths:
        with open(path) as f:
            rows = json.load(f)
        for row in rows:
            key = (row["benchmark"], json.dumps(row.get("params", {}), sort_keys=True))
            if key not in merged:
                merged[key] = row
                continue
            into = merged[key]
            merge_metric(into["primaryMetric"], row["primaryMetric"])
            for name, metric in row.get("secondaryMetrics", {}).items():
                if name in into.setdefault("secondaryMetrics", {}):
                    merge_metric(into["secondaryMetrics"][name], metric)
                else:
                    into["secondaryMetrics"][name] = metric
            into["forks"] = into.get("forks", 1) + row.get("forks", 1)
    for row in merged.values():
        finish_metric(row["primaryMetric"])
        for metric in row.get("secondaryMetrics", {}).values():
            finish_metric(metric)
    with open(out, "w") as f:
        json.dump(list(merged.values()), f, indent=2)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
