#!/usr/bin/env python3
"""A JSON-lines helper: for each {"id": n, "text": s} it answers {"id": n, "length": len(s), "upper": s.upper()}.

Arguments (for the failure tests): "malformed N" writes a line that is not JSON instead of answer N;
"die N" writes half of answer N, then exits with status 3; "long N" writes answer N padded past 1 MiB.
"""
import json
import os
import sys

mode = sys.argv[1] if len(sys.argv) > 1 else ""
at = int(sys.argv[2]) if len(sys.argv) > 2 else -1
out = sys.stdout
for line in sys.stdin:
    record = json.loads(line)
    n = record["id"]
    answer = {"id": n, "length": len(record["text"]), "upper": record["text"].upper()}
    if n == at and mode == "malformed":
        out.write('{"id": %d, "length": oops}\n' % n)
    elif n == at and mode == "die":
        text = json.dumps(answer)
        out.write(text[: len(text) // 2])
        out.flush()
        os._exit(3)
    elif n == at and mode == "long":
        answer["upper"] = "X" * (1 << 20)
        out.write(json.dumps(answer) + "\n")
    else:
        out.write(json.dumps(answer) + "\n")
    out.flush()
