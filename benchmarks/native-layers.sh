#!/usr/bin/env bash
# The two native layers side by side on a JDK 22+: the FFM API (the default there) and jnr-ffi
# (-Dio.umhflux.native=jnr), alternating, one JMH fork per layer per round, on spawn + exit, ping-pong and raw echo
# (64 KiB chunks). Prints each layer's median and the FFM layer's time relative to jnr-ffi's (below 1: faster).
#
#   benchmarks/native-layers.sh [JDK_HOME] [ROUNDS]   # default: the newest JDK 22+ under /usr/lib/jvm, 3 rounds
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
jdk=${1:-}
rounds=${2:-3}
if [ -z "$jdk" ]; then
  best=0
  for home in /usr/lib/jvm/*/; do
    [ -x "$home/bin/java" ] || continue
    release=$("$home/bin/java" -XshowSettings:properties -version 2>&1 \
      | sed -n 's/^ *java\.specification\.version = \([0-9]*\)$/\1/p')
    if [ -n "$release" ] && [ "$release" -ge 22 ] && [ "$release" -gt "$best" ]; then
      jdk=${home%/}
      best=$release
    fi
  done
fi
[ -n "$jdk" ] || { echo "no JDK 22+ found: give its home as the first argument" >&2; exit 1; }

build="$here/build"
raw="$here/results/raw"
mkdir -p "$build" "$raw"
gcc -O2 -static -o "$build/tiny" "$here/c/tiny.c" 2>/dev/null || gcc -O2 -o "$build/tiny" "$here/c/tiny.c"
# built by this JDK, so that the library has its FFM layer
(cd "$top" && JAVA_HOME="$jdk" mvn -B -q install -DskipTests)
jar="$here/target/benchmarks.jar"

for round in $(seq "$rounds"); do
  for layer in ffm jnr; do
    echo "== round $round: $layer"
    "$jdk/bin/java" -jar "$jar" 'benchmarks\.(Spawn|PingPong|Echo)Benchmark\.umhFlux$' \
      -p chunk=65536 -f 1 -wi 3 -w 1 -i 5 -r 1 \
      -jvmArgsAppend "-Dio.umhflux.native=$layer -Dumh.bench.tiny=$build/tiny --enable-native-access=ALL-UNNAMED" \
      -rf json -rff "$raw/native_${layer}_${round}.json" | tail -n 5
  done
done

python3 - "$raw" "$rounds" <<'PY'
import json, statistics, sys
raw, rounds = sys.argv[1], int(sys.argv[2])
scores = {}
for layer in ("ffm", "jnr"):
    for r in range(1, rounds + 1):
        for b in json.load(open("%s/native_%s_%d.json" % (raw, layer, r))):
            m = b["primaryMetric"]
            scores.setdefault(b["benchmark"].split(".")[-2], {}).setdefault(layer, []).append(
                (m["score"], m["scoreUnit"], b["mode"]))
print("benchmark            ffm (median)          jnr (median)          ffm time / jnr time")
for name, by in sorted(scores.items()):
    f = statistics.median(s for s, _, _ in by["ffm"])
    j = statistics.median(s for s, _, _ in by["jnr"])
    unit, mode = by["ffm"][0][1], by["ffm"][0][2]
    ratio = f / j if mode != "thrpt" else j / f
    print("%-20s %10.2f %-10s %10.2f %-10s %.2f" % (name, f, unit, j, unit, ratio))
PY
