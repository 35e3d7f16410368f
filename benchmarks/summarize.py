#!/usr/bin/env python3
"""Turns the raw JMH and C baseline results of one run.sh run into summary.json and summary.md.

One record per performance target (the targets BENCHMARKS.md lists): name, ours, peer, ratio, target, met.

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


def jmh_runs(path, metric=None):
    """(benchmark method, params) -> the mean score of each fork (JMH's runs), of the primary metric or of the
    secondary metric named (the ProcessCpuProfiler's "cpu")."""
    with open(path) as f:
        rows = json.load(f)
    out = {}
    for r in rows:
        m = r["primaryMetric"] if metric is None else r.get("secondaryMetrics", {}).get(metric)
        if m is None or not m.get("rawData"):
            continue
        # EchoBenchmark's sandboxed=false is the plain spawn every other row means: left out of the key
        params = {k: v for k, v in r.get("params", {}).items() if (k, v) != ("sandboxed", "false")}
        key = (r["benchmark"].rsplit(".", 1)[1], tuple(sorted(params.items())))
        out[key] = [statistics.mean(fork) for fork in m["rawData"] if fork]
    return out


def c_by_round(path, key, tag=None):
    """A C baseline run in run.sh's rounds (lines "round=R [tag] key V", several per round): the median of each
    round's values of key (among the lines with tag, if given), in round order."""
    rounds = {}
    with open(path) as f:
        for line in f:
            fields = line.split()
            if fields and fields[0].startswith("round=") and key in fields and (tag is None or tag in fields):
                rounds.setdefault(int(fields[0][len("round="):]), []).append(float(fields[-1]))
    return [statistics.median(rounds[r]) for r in sorted(rounds)]


def jmh_cpu(path):
    """(benchmark method, params) -> CPU ms/op of the benchmark JVM (ProcessCpuProfiler), where it was recorded."""
    with open(path) as f:
        rows = json.load(f)
    return {(r["benchmark"].rsplit(".", 1)[1], tuple(sorted(r.get("params", {}).items()))):
            r["secondaryMetrics"]["cpu"]["score"] for r in rows if "cpu" in r.get("secondaryMetrics", {})}


def cpu_row(name, cpu, key):
    """An informational row: the JVM's CPU per operation, umh-flux's against ProcessBuilder's (lower is better);
    cpu maps (method, params) to a value or to the values of each run."""
    if ("umhFlux", key) not in cpu or ("processBuilder", key) not in cpu:
        return None
    ours, pb = cpu[("umhFlux", key)], cpu[("processBuilder", key)]
    return record(name + ": JVM CPU per op, umh-flux / ProcessBuilder", ours, pb, "ms CPU/op",
                  lambda o, p: o / p, target="(none; lower is less work)")


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
    """One summary row. ours and peer are one value, or the values of repeated runs (JMH forks, C rounds); ratio
    is a number, or a function of one run's (ours, peer) applied to the runs paired in order. The row shows the
    medians and, over several runs, the ratios' range; met is decided on the median ratio (at least the goal, or
    with at_most at most), and met_every_run says whether each run's ratio met it too. Without a goal, an
    informational row whose met is None."""
    ours_runs = ours if isinstance(ours, list) else [ours]
    peer_runs = peer if isinstance(peer, list) else [peer]
    if callable(ratio):
        n = max(len(ours_runs), len(peer_runs))
        ratios = [ratio(ours_runs[i % len(ours_runs)], peer_runs[i % len(peer_runs)]) for i in range(n)]
    else:
        ratios = [ratio]
    median = statistics.median(ratios)
    meets = lambda x: x <= goal if at_most else x >= goal
    if goal is None:
        met, text = None, target or "(none)"
    else:
        met = meets(median)
        text = target or ("%s %g" % ("<=" if at_most else ">=", goal))
    r = lambda v: round(v, digits) if digits is not None else round(v)
    row = {"name": name, "ours": r(statistics.median(ours_runs)), "peer": r(statistics.median(peer_runs)),
           "unit": unit, "ratio": round(median, 2), "target": text, "met": met}
    if len(ratios) > 1:
        row["runs"] = len(ratios)
        row["ratio_min"] = round(min(ratios), 2)
        row["ratio_max"] = round(max(ratios), 2)
        if goal is not None:
            row["met_every_run"] = all(meets(x) for x in ratios)
            row["runs_met"] = sum(1 for x in ratios if meets(x))
    return row


def per_run(f, values):
    """f applied to each run's value."""
    return [f(v) for v in values]


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
        unit = jmh(spawn_json)["umhFlux"][1]
        spawn = jmh_runs(spawn_json)
        us = lambda method: per_run(lambda v: nanos(v, unit) / 1000.0, spawn[(method, ())])
        ours_us, pb_us = us("umhFlux"), us("processBuilder")
        # the C loop ran in the same rounds as the JMH forks: round i of each is run i of the row
        c_us = per_run(lambda v: v / 1000.0, c_by_round(os.path.join(raw, "spawn_c.txt"), "ns_per_op"))
        records.append(record("spawn + exit, speed-up over ProcessBuilder", ours_us, pb_us, "us/op",
                              lambda o, p: p / o, 2.0, digits=1))
        records.append(record("spawn + exit, time relative to C posix_spawn", ours_us, c_us, "us/op",
                              lambda o, p: o / p, 1.3, at_most=True, digits=1))
        if ("umhFluxSandboxed", ()) in spawn:
            # both in the same fork: each fork's pair is one run
            records.append(record("sandboxed spawn + exit (Sandbox.confined()), time relative to unsandboxed",
                                  us("umhFluxSandboxed"), ours_us, "us/op", lambda o, p: o / p, 1.5,
                                  at_most=True, digits=1))
    echo_json = os.path.join(raw, "echo.json")
    if os.path.exists(echo_json):
        echo = jmh_runs(echo_json)
        echo_cpu = jmh_runs(echo_json, "cpu")
        total = 64 << 20
        gbps = lambda runs: per_run(lambda ms: total / (ms / 1000.0) / 1e9, runs)
        per_sec = lambda runs: per_run(lambda v: v / 1e9, runs)
        # the C loop ran in the same rounds as the JMH forks: round i of each is run i of the row
        c64 = per_sec(c_by_round(os.path.join(raw, "echo_c.txt"), "bytes_per_sec", "chunk=65536"))
        for chunk, goal in ((4096, 1.5), (65536, 1.0), (1048576, None)):
            key = (("chunk", str(chunk)), ("pipeSize", "-1"), ("writeSize", "0"))
            ours, pb = gbps(echo[("umhFlux", key)]), gbps(echo[("processBuilder", key)])
            records.append(record("echo through cat, %d B chunks, vs ProcessBuilder" % chunk, ours, pb, "GB/s",
                                  lambda o, p: o / p, goal))
            c_big = per_sec(c_by_round(os.path.join(raw, "echo_c_bigpipe.txt"), "bytes_per_sec",
                                       "chunk=%d" % chunk))
            if c_big:
                # the physical limit: a C read/write loop on the same 1 MiB pipes umh-flux gets by default
                records.append(record("echo through cat, %d B chunks, 1 MiB pipes (the default), vs C read/write "
                                      "on 1 MiB pipes (the limit)" % chunk, ours, c_big, "GB/s", lambda o, p: o / p,
                                      0.95 if chunk == 65536 else None))
            if chunk == 65536:
                records.append(record("echo through cat, 64 KiB chunks, 1 MiB pipes, vs C read/write on the "
                                      "kernel's 64 KiB pipes", ours, c64, "GB/s", lambda o, p: o / p,
                                      target="(none; different pipes)"))
            row = cpu_row("echo through cat, %d B chunks" % chunk, echo_cpu, key)
            if row:
                records.append(row)
        kernel = os.path.join(raw, "echo_kernelpipes.json")
        if os.path.exists(kernel):
            kernel_runs, kernel_cpu = jmh_runs(kernel), jmh_runs(kernel, "cpu")
            for chunk in (4096, 65536):
                key = (("chunk", str(chunk)), ("pipeSize", "0"), ("writeSize", "0"))
                pb_key = (("chunk", str(chunk)), ("pipeSize", "-1"), ("writeSize", "0"))
                ours = gbps(kernel_runs[("umhFlux", key)])
                pb = gbps(echo[("processBuilder", pb_key)])
                records.append(record("echo through cat, %d B chunks, kernel's 64 KiB pipes (pipeSize(0)), vs "
                                      "ProcessBuilder" % chunk, ours, pb, "GB/s", lambda o, p: o / p,
                                      target="(both on the kernel's pipes)"))
                if chunk == 65536:
                    records.append(record("echo through cat, 64 KiB chunks, kernel's 64 KiB pipes, vs C read/write "
                                          "on the same pipes", ours, c64, "GB/s", lambda o, p: o / p,
                                          target="(both on the kernel's pipes)"))
                if ("umhFlux", key) in kernel_cpu and ("processBuilder", pb_key) in echo_cpu:
                    records.append(record("echo through cat, %d B chunks, kernel's pipes: JVM CPU per op, umh-flux / "
                                          "ProcessBuilder" % chunk, kernel_cpu[("umhFlux", key)],
                                          echo_cpu[("processBuilder", pb_key)], "ms CPU/op", lambda o, p: o / p,
                                          target="(none; lower is less work)"))
        sandboxed = os.path.join(raw, "echo_sandboxed.json")
        if os.path.exists(sandboxed):
            runs = jmh_runs(sandboxed)
            key = (("chunk", "65536"), ("pipeSize", "-1"), ("writeSize", "0"))
            records.append(record("echo through cat, 64 KiB chunks, sandboxed (Sandbox.confined()) vs unsandboxed",
                                  gbps(runs[("umhFlux", tuple(sorted(key + (("sandboxed", "true"),))))]),
                                  gbps(runs[("umhFlux", key)]), "GB/s", lambda o, p: o / p, 0.95))
        paged = os.path.join(raw, "echo_pagewrites.json")
        if os.path.exists(paged):
            key = (("chunk", "65536"), ("pipeSize", "0"), ("writeSize", "4096"))
            ours = gbps(jmh_runs(paged)[("umhFlux", key)])
            pb = gbps(echo[("processBuilder", (("chunk", "65536"), ("pipeSize", "-1"), ("writeSize", "0")))])
            records.append(record("echo through cat, 64 KiB chunks, writeSize(4096) on the kernel's pipes, "
                                  "vs ProcessBuilder", ours, pb,
                                  "GB/s", lambda o, p: o / p, target="(option; more CPU, see notes)"))
    typed_json = os.path.join(raw, "typed.json")
    if os.path.exists(typed_json):
        typed = jmh_runs(typed_json)
        typed_cpu = jmh_runs(typed_json, "cpu")
        for size, count, goal, nu_goal, cpu_goal in (("small", 200_000, 1.0, 2.0, 1.1),
                                                     ("large", 1_000, 1.1, None, None)):
            key = (("size", size),)
            rate = lambda method: per_run(lambda ms: count / ms * 1000.0, typed[(method, key)])
            ours = rate("umhFlux")
            records.append(record("Kryo %s messages echoed through cat, vs ProcessBuilder + Kryo" % size, ours,
                                  rate("processBuilder"), "messages/s", lambda o, p: o / p, goal, digits=None))
            if ("umhFlux", key) in typed_cpu and ("processBuilder", key) in typed_cpu:
                records.append(record("Kryo %s messages: JVM CPU per op, umh-flux / ProcessBuilder" % size,
                                      typed_cpu[("umhFlux", key)], typed_cpu[("processBuilder", key)], "ms CPU/op",
                                      lambda o, p: o / p, cpu_goal, at_most=True,
                                      target=None if cpu_goal else "(none; lower is less work)"))
            if ("umhFluxSink", key) in typed:
                pushed = rate("umhFluxSink")
                records.append(record("Kryo %s messages pushed by one thread through UmhSink.emitBlocking, "
                                      "vs send(Flux)" % size, pushed, ours, "messages/s", lambda o, p: o / p,
                                      0.8 if size == "small" else None, digits=None))
            if ("nuProcess", key) in typed:
                records.append(record("Kryo %s messages echoed through cat, vs NuProcess + Kryo" % size, ours,
                                      rate("nuProcess"), "messages/s", lambda o, p: o / p, nu_goal, digits=None))
    foreign_json = os.path.join(raw, "foreign.json")
    if os.path.exists(foreign_json):
        foreign = jmh_runs(foreign_json)
        foreign_cpu = jmh_runs(foreign_json, "cpu")
        coded_json = os.path.join(raw, "foreign_coded.json")
        if os.path.exists(coded_json):
            foreign.update(jmh_runs(coded_json))
        count = 100_000  # ForeignCodecsBenchmark.COUNT
        for fmt, name, how in (("json", "JSON-lines", "Jackson's SequenceWriter and MappingIterator"),
                               ("protobuf", "varint-delimited protobuf",
                                "writeDelimitedTo and parseDelimitedFrom")):
            key = (("format", fmt),)
            if ("umhFlux", key) not in foreign or ("processBuilder", key) not in foreign:
                continue
            rate = lambda method: per_run(lambda ms: count / ms * 1000.0, foreign[(method, key)])
            ours = rate("umhFlux")
            records.append(record("%s small messages echoed through cat, vs ProcessBuilder + %s" % (name, how),
                                  ours, rate("processBuilder"), "messages/s", lambda o, p: o / p, 1.0,
                                  digits=None))
            row = cpu_row("%s small messages" % name, foreign_cpu, key)
            if row:
                records.append(row)
            if fmt == "protobuf" and ("processBuilderCoded", key) in foreign:
                records.append(record("%s small messages echoed through cat, vs ProcessBuilder + one "
                                      "CodedOutputStream/CodedInputStream per direction" % name, ours,
                                      rate("processBuilderCoded"), "messages/s", lambda o, p: o / p, digits=None,
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
        f.write("| target | ours | peer | unit | ratio (median; range over runs) | goal | met (on the median) |\n"
                "|---|---|---|---|---|---|---|\n")
        for r in records:
            f.write("| {name} | {ours} | {peer} | {unit} | {ratio} | {target} | {met} |\n".format(
                **{**r, "ratio": ratio_text(r), "met": met_text(r)}))
        if notes:
            f.write("\n" + "\n\n".join(notes) + "\n")


def ratio_text(r):
    """The median ratio, with its range and the number of runs when there were several."""
    if r.get("runs", 1) > 1:
        return "%s (%s to %s, %d runs)" % (r["ratio"], r["ratio_min"], r["ratio_max"], r["runs"])
    return str(r["ratio"])


def met_text(r):
    """met or NOT met on the median; a row met in some runs and not in others says so."""
    if r["met"] is None:
        return "-"
    text = "met" if r["met"] else "NOT met"
    if "runs_met" in r and 0 < r["runs_met"] < r["runs"]:
        text += " (met in %d of %d runs)" % (r["runs_met"], r["runs"])
    return text


def machine_line(raw):
    """One sentence on the run and the machine, from the machine.txt that run.sh writes ('key: value' lines)."""
    path = os.path.join(raw, "machine.txt")
    if not os.path.exists(path):
        return "Machine: not recorded (no machine.txt in the raw results)."
    with open(path) as f:
        m = dict(line.rstrip("\n").split(": ", 1) for line in f if ": " in line)
    g = lambda key: m.get(key, "?")
    return ("Latest run: `benchmarks/run.sh%s` on %s, of commit %s; %s cores (%s), %s memory, Linux %s, %s; %s; %s."
            % (" --quick" if g("mode") == "quick" else "", g("date"), g("commit"), g("cores"), g("cpu"),
               g("memory"), g("kernel"), g("jdk"), g("limits"), g("load")))


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
