#!/usr/bin/env python3
"""A JSON-lines helper: for each {"id": n, "text": s} it answers {"id": n, "upper": s.upper()}."""
import json
import sys

for line in sys.stdin:
    query = json.loads(line)
    print(json.dumps({"id": query["id"], "upper": query["text"].upper()}), flush=True)
