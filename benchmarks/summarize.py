#!/usr/bin/env python3
"""Turns the raw JMH and C baseline results of one run.sh run into summary.json and summary.md.

One record per performance target of shared/DESIGN.md: name, ours, peer, ratio, target, met.

usage: summarize.py RAW_DIR OUT_DIR [MARKDOWN_FILE]
With MARKDOWN_FILE (run.sh passes BENCHMARKS.md), the part between its BEGIN and END marker lines below is
replaced by the machine of the run (raw/machine.txt) and summary.md.
"""
import json
import os
import re
import statistics
import sys

BEGIN = "<!-- results:begin (written by benchmarks/summarize.py from the latest run.sh; edits here are lost) -->"
END = "<!-- results:end -->"


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


def jmh_cpu(path):
    """(benchmark method, params) -> CPU ms/op of the benchmark JVM (ProcessCpuProfiler), where it was recorded."""
    with open(path) as f:
        rows = json.load(f)
    return {(r["benchmark"].rsplit(".", 1)[1], tuple(sorted(r.get("params", {}).items()))):
            r["secondaryMetrics"]["cpu"]["score"] for r in rows if "cpu" in r.get("secondaryMetrics", {})}


def cpu_row(name, cpu, key):
    """An informational row: the JVM's CPU per operation, umh-flux's against ProcessBuilder's (lower is better)."""
    if ("umhFlux", key) not in cpu or ("processBuilder", key) not in cpu:
        return None
    ours, pb = cpu[("umhFlux", key)], cpu[("processBuilder", key)]
    return record(name + ": JVM CPU per op, umh-flux / ProcessBuilder", ours, pb, "ms CPU/op", ours / pb,
                  target="(none; lower is less work)")


def nanos(score, unit):
    """A JMH score as nanoseconds per operation, from an average time (ns/op ...) or a throughput (ops/s ...)."""
    scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
    if unit.endswith("/op"):
        return score * scale[unit[:-3]]
    if unit.startswith("ops/"):
        return scale[unit[4:]] / score
    raise ValueError("unknown JMH unit " + unit)


def c_baseline(path, key, prefix=""):
    with open(path) as f:
        values = [float(line.split()[-1]) for line in f if line.startswith(prefix) and key in line]
    return statistics.median(values)


def record(name, ours, peer, unit, ratio, goal=None, at_most=False, digits=2, target=None):
    """One summary row; met when the ratio is at least (or, with at_most, at most) the goal; without a goal, an
    informational row whose met is None."""
    if goal is None:
        met, text = None, target or "(none)"
    else:
        met = ratio <= goal if at_most else ratio >= goal
        text = target or ("%s %.1f" % ("<=" if at_most else ">=", goal))
    r = lambda v: round(v, digits) if digits is not None else round(v)
    return {"name": name, "ours": r(ours), "peer": r(peer), "unit": unit, "ratio": round(ratio, 2),
            "target": text, "met": met}


def scale_notes(raw):
    """Lines on the scale test of many_scale.jsonl: the most helpers that streamed, and where spawning stopped."""
    path = os.path.join(raw, "many_scale.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        runs = [json.loads(line) for line in f if line.startswith("{")]
    done = [m for m in runs if "limit" not in m]
    notes = []
    if done:
        most = max(done, key=lambda m: m["helpers"])
        notes.append("Scale: %s concurrent streaming helpers ran (most: %d, %d JVM threads, %.1f MiB peak heap)."
                     % (", ".join(str(m["helpers"]) for m in done), most["helpers"], most["threads_max"],
                        most["heap_max_mib"]))
    for m in runs:
        if "limit" in m:
            notes.append("Scale: asked for %d helpers, spawning was refused after %d were alive; limit reached: "
                         "%s (`%s`)." % (m["helpers"], m.get("spawned", 0), m["limit"], m.get("error", "")))
    if done and not any("limit" in m for m in runs):
        notes.append("Scale: no limit was reached up to %d helpers." % max(m["helpers"] for m in done))
    return notes


def flink(raw):
    """Rows and notes from flink.json (FlinkStages): each umh-flux stage against the same Flink job by hand."""
    path = os.path.join(raw, "flink.json")
    if not os.path.exists(path):
        return [], []
    with open(path) as f:
        runs = {(r["parallelism"], r["variant"]): r for r in json.load(f)}
    rate = lambda p, variant: runs[(p, variant)]["recordsPerSecond"]
    parallelisms = sorted({p for p, _ in runs})
    records = []
    for p in parallelisms:
        for name, ours, peer, goal, target in (
                ("Flink streaming stage (pipe) vs a ProcessBuilder flatMap with writer/reader threads",
                 "pipe", "pipeByHand", 3.0, None),
                ("Flink request stage vs a lockstep ProcessBuilder map", "requests", "lockstepByHand", 1.5, None),
                ("Flink job without a stage (the ceiling of any stage) vs the ProcessBuilder flatMap",
                 "noStage", "pipeByHand", None, "(none; the most a stage can reach)")):
            if (p, ours) in runs and (p, peer) in runs:
                records.append(record("%s, parallelism %d" % (name, p), rate(p, ours), rate(p, peer), "records/s",
                                      rate(p, ours) / rate(p, peer), goal, digits=None, target=target))
    notes = []
    grown = ["%s x%.2f" % (v, rate(2, v) / rate(1, v)) for v in ("pipe", "pipeByHand", "requests", "lockstepByHand")
             if (1, v) in runs and (2, v) in runs]
    if grown:
        notes.append("Flink, parallelism 1 to 2 (records/s at 2 / at 1): %s." % ", ".join(grown))
    for (p, variant), r in sorted(runs.items()):
        lost = r.get("lostRecords", 0)
        if lost > 0:
            why = " (lines still inside cat when the flatMap closed: it cannot emit in close())" \
                if variant == "pipeByHand" else ""
            notes.append("Flink: %s at parallelism %d LOST up to %d of %d records in a round%s."
                         % (variant, p, lost, r["records"], why))
    return records, notes


def main(raw, out):
    records = []
    notes = []
    spawn_json = os.path.join(raw, "spawn.json")
    if os.path.exists(spawn_json):
        spawn = jmh(spawn_json)
        ours_us = spawn["umhFlux"][0]
        pb_us = spawn["processBuilder"][0]
        c_us = c_baseline(os.path.join(raw, "spawn_c.txt"), "ns_per_op") / 1000.0
        records.append(record("spawn + exit, speed-up over ProcessBuilder", ours_us, pb_us, "us/op",
                              pb_us / ours_us, 2.0, digits=1))
        records.append(record("spawn + exit, time relative to C posix_spawn", ours_us, c_us, "us/op",
                              ours_us / c_us, 1.3, at_most=True, digits=1))
    echo_json = os.path.join(raw, "echo.json")
    if os.path.exists(echo_json):
        echo = jmh_params(echo_json)
        total = 64 << 20
        gbps = lambda ms: total / (ms / 1000.0) / 1e9
        c64 = c_baseline(os.path.join(raw, "echo_c.txt"), "bytes_per_sec", "chunk=65536 ") / 1e9
        for chunk, goal in ((4096, 1.5), (65536, 1.0), (1048576, None)):
            key = (("chunk", str(chunk)), ("pipeSize", "-1"), ("writeSize", "0"))
            ours, pb = gbps(echo[("umhFlux", key)]), gbps(echo[("processBuilder", key)])
            records.append(record("echo through cat, %d B chunks, vs ProcessBuilder" % chunk, ours, pb, "GB/s",
                                  ours / pb, goal))
            if chunk == 65536:
                records.append(record("echo through cat, 64 KiB chunks, vs C read/write", ours, c64, "GB/s",
                                      ours / c64, 0.9))
            row = cpu_row("echo through cat, %d B chunks" % chunk, jmh_cpu(echo_json), key)
            if row:
                records.append(row)
        kernel = os.path.join(raw, "echo_kernelpipes.json")
        if os.path.exists(kernel):
            for chunk in (4096, 65536):
                key = (("chunk", str(chunk)), ("pipeSize", "0"), ("writeSize", "0"))
                ours = gbps(jmh_params(kernel)[("umhFlux", key)])
                pb = gbps(echo[("processBuilder", (("chunk", str(chunk)), ("pipeSize", "-1"), ("writeSize", "0")))])
                records.append(record("echo through cat, %d B chunks, kernel's 64 KiB pipes (pipeSize(0)), vs "
                                      "ProcessBuilder" % chunk, ours, pb, "GB/s", ours / pb,
                                      target="(both on the kernel's pipes)"))
                if chunk == 65536:
                    records.append(record("echo through cat, 64 KiB chunks, kernel's 64 KiB pipes, vs C read/write",
                                          ours, c64, "GB/s", ours / c64, target="(both on the kernel's pipes)"))
                ours_cpu, pb_cpu = jmh_cpu(kernel), jmh_cpu(echo_json)
                pb_key = (("chunk", str(chunk)), ("pipeSize", "-1"), ("writeSize", "0"))
                if ("umhFlux", key) in ours_cpu and ("processBuilder", pb_key) in pb_cpu:
                    mine, theirs = ours_cpu[("umhFlux", key)], pb_cpu[("processBuilder", pb_key)]
                    records.append(record("echo through cat, %d B chunks, kernel's pipes: JVM CPU per op, umh-flux / "
                                          "ProcessBuilder" % chunk, mine, theirs, "ms CPU/op", mine / theirs,
                                          target="(none; lower is less work)"))
        big = os.path.join(raw, "echo_bigpipe.json")
        if os.path.exists(big):
            ours = gbps(jmh_params(big)[("umhFlux", (("chunk", "65536"), ("pipeSize", "1048576"), ("writeSize", "0")))])
            records.append(record("echo through cat, 1 MiB pipes, vs C on default pipes", ours, c64, "GB/s",
                                  ours / c64, 1.2))
        paged = os.path.join(raw, "echo_pagewrites.json")
        if os.path.exists(paged):
            key = (("chunk", "65536"), ("pipeSize", "0"), ("writeSize", "4096"))
            ours = gbps(jmh_params(paged)[("umhFlux", key)])
            pb = gbps(echo[("processBuilder", (("chunk", "65536"), ("pipeSize", "-1"), ("writeSize", "0")))])
            records.append(record("echo through cat, 64 KiB chunks, writeSize(4096) on the kernel's pipes, "
                                  "vs ProcessBuilder", ours, pb,
                                  "GB/s", ours / pb, target="(option; more CPU, see notes)"))
    typed_json = os.path.join(raw, "typed.json")
    if os.path.exists(typed_json):
        typed = jmh_params(typed_json)
        for size, count, goal, nu_goal in (("small", 200_000, 1.0, 2.0), ("large", 1_000, None, None)):
            key = (("size", size),)
            rate = lambda method: count / typed[(method, key)] * 1000.0
            ours = rate("umhFlux")
            pb = rate("processBuilder")
            records.append(record("Kryo %s messages echoed through cat, vs ProcessBuilder + Kryo" % size, ours, pb,
                                  "messages/s", ours / pb, goal, digits=None))
            row = cpu_row("Kryo %s messages" % size, jmh_cpu(typed_json), key)
            if row:
                records.append(row)
            if ("umhFluxSink", key) in typed:
                pushed = rate("umhFluxSink")
                records.append(record("Kryo %s messages pushed by one thread through UmhSink.emitBlocking, "
                                      "vs send(Flux)" % size, pushed, ours, "messages/s", pushed / ours,
                                      0.8 if size == "small" else None, digits=None))
            if ("nuProcess", key) in typed:
                nu = rate("nuProcess")
                records.append(record("Kryo %s messages echoed through cat, vs NuProcess + Kryo" % size, ours, nu,
                                      "messages/s", ours / nu, nu_goal, digits=None))
    foreign_json = os.path.join(raw, "foreign.json")
    if os.path.exists(foreign_json):
        foreign = jmh_params(foreign_json)
        coded_json = os.path.join(raw, "foreign_coded.json")
        if os.path.exists(coded_json):
            foreign.update(jmh_params(coded_json))
        count = 100_000  # ForeignCodecsBenchmark.COUNT
        for fmt, name, how in (("json", "JSON-lines", "Jackson's SequenceWriter and MappingIterator"),
                               ("protobuf", "varint-delimited protobuf",
                                "writeDelimitedTo and parseDelimitedFrom")):
            key = (("format", fmt),)
            if ("umhFlux", key) not in foreign or ("processBuilder", key) not in foreign:
                continue
            rate = lambda method: count / foreign[(method, key)] * 1000.0
            ours = rate("umhFlux")
            records.append(record("%s small messages echoed through cat, vs ProcessBuilder + %s" % (name, how),
                                  ours, rate("processBuilder"), "messages/s", ours / rate("processBuilder"), 1.0,
                                  digits=None))
            row = cpu_row("%s small messages" % name, jmh_cpu(foreign_json), key)
            if row:
                records.append(row)
            if fmt == "protobuf" and ("processBuilderCoded", key) in foreign:
                coded = rate("processBuilderCoded")
                records.append(record("%s small messages echoed through cat, vs ProcessBuilder + one "
                                      "CodedOutputStream/CodedInputStream per direction" % name, ours, coded,
                                      "messages/s", ours / coded, digits=None,
                                      target="(none; the expert's loop)"))
    many = os.path.join(raw, "many.json")
    if os.path.exists(many):
        with open(many) as f:
            m = json.loads(f.read().strip().splitlines()[-1])
        records.append(record("%d concurrent streaming helpers: JVM threads" % m["helpers"], m["threads_max"],
                              m["threads_limit"], "threads", m["threads_max"] / m["threads_limit"], 1.0,
                              at_most=True, target="<= 2 x cores + 8"))
        records.append(record("%d concurrent streaming helpers: peak used heap" % m["helpers"], m["heap_max_mib"],
                              64, "MiB", m["heap_max_mib"] / 64, 1.0, at_most=True, target="bounded (<= 64 MiB)"))
    pingpong_c = os.path.join(raw, "pingpong_c.txt")
    pingpong_json = os.path.join(raw, "pingpong.json")
    if os.path.exists(pingpong_c) and os.path.exists(pingpong_json):
        c_us = c_baseline(pingpong_c, "ns_per_roundtrip") / 1000.0
        pp = jmh(pingpong_json)
        for method, how in (("umhFlux", "caller thread blocks for each answer"),
                            ("umhFluxOnLoop", "requests chained on the event loop")):
            if method in pp:
                ours_us = nanos(*pp[method]) / 1000.0
                records.append(record("ping-pong round trip through cat, 32 B message (%s), time vs C over pipes"
                                      % how, ours_us, c_us, "us/round trip", ours_us / c_us, 1.5, at_most=True,
                                      digits=1))
        if "processBuilder" in pp:
            pb_us = nanos(*pp["processBuilder"]) / 1000.0
            notes.append("Ping-pong through cat: ProcessBuilder with blocking streams takes %.1f us per round "
                         "trip, C %.1f us." % (pb_us, c_us))
    pool_json = os.path.join(raw, "pool.json")
    if os.path.exists(pool_json):
        scores = jmh_params(pool_json)
        by_size = {dict(params)["helpers"]: score for (method, params), score in scores.items()}
        one = by_size.get("1")
        for n in sorted(by_size, key=int):
            records.append(record("pool of %s cat helper(s): requests/s (32 B request/response)" % n, by_size[n],
                                  one, "requests/s", by_size[n] / one, digits=None,
                                  target="(scaling vs 1 helper)"))
    flink_records, flink_notes = flink(raw)
    records += flink_records
    notes += flink_notes
    notes += scale_notes(raw)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(records, f, indent=2)
        f.write("\n")
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write("| target | ours | peer | unit | ratio | goal | met |\n|---|---|---|---|---|---|---|\n")
        for r in records:
            f.write("| {name} | {ours} | {peer} | {unit} | {ratio} | {target} | {met} |\n".format(
                **{**r, "met": "-" if r["met"] is None else "met" if r["met"] else "NOT met"}))
        if notes:
            f.write("\n" + "\n\n".join(notes) + "\n")


def machine_line(raw):
    """One sentence on the run and the machine, from the machine.txt that run.sh writes ('key: value' lines)."""
    path = os.path.join(raw, "machine.txt")
    if not os.path.exists(path):
        return "Machine: not recorded (no machine.txt in the raw results)."
    with open(path) as f:
        m = dict(line.rstrip("\n").split(": ", 1) for line in f if ": " in line)
    g = lambda key: m.get(key, "?")
    return ("Latest run: `benchmarks/run.sh%s` on %s; %s cores (%s), %s memory, Linux %s, %s; %s; %s."
            % (" --quick" if g("mode") == "quick" else "", g("date"), g("cores"), g("cpu"), g("memory"),
               g("kernel"), g("jdk"), g("limits"), g("load")))


def update_markdown(path, raw, summary_md):
    """Replaces the text between the BEGIN and END lines of path; leaves the file alone without them."""
    with open(path) as f:
        text = f.read()
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        print("summarize.py: no results markers in %s, left as it was" % path, file=sys.stderr)
        return
    with open(summary_md) as f:
        table = f.read()
    section = "%s\n%s\n\n%s%s" % (BEGIN, machine_line(raw), table, END)
    with open(path, "w") as f:
        f.write(pattern.sub(lambda _: section, text))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
    if len(sys.argv) > 3:
        update_markdown(sys.argv[3], sys.argv[1], os.path.join(sys.argv[2], "summary.md"))
