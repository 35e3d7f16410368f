#!/usr/bin/env bash
# Runs the umh-flux benchmarks side by side with their peers and writes benchmarks/results/summary.{json,md},
# the charts in benchmarks/results/charts/*.png and the results section of BENCHMARKS.md.
#
#   benchmarks/run.sh            full run; the scale test goes on past 1,000 helpers until spawning is refused
#   benchmarks/run.sh --quick    fewer, shorter iterations (about 25 minutes on 2 cores, more when busy)
#
# Builds what it needs: the JMH jar (Maven) and the C baselines (gcc). Ratios are computed within ONE invocation,
# on one machine, because absolute numbers are noise on a shared 2-core box. The noisy rows (throughput through
# cat, and spawning) run in several JMH forks (3 quick, 5 full) and the C loops in as many rounds; the Kryo rows in
# five interleaved rounds. The summary shows each row's median and range over them, and decides met on the median.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
quick=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown option: $arg" >&2; exit 2 ;;
  esac
done

build="$here/build"
raw="$here/results/raw"
charts="$here/results/charts"
mkdir -p "$build" "$raw" "$charts"

# What the numbers were measured on, for the summary and the charts
{
  echo "date: $(date -u +%Y-%m-%d)"
  # the code the results describe: a commit that lands them names this one
  echo "commit: $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$top" diff --quiet HEAD \
    2>/dev/null || echo ' with uncommitted changes')"
  echo "mode: $([ "$quick" = 1 ] && echo quick || echo full)"
  echo "cores: $(nproc)"
  echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
  echo "memory: $(awk '/^MemTotal:/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "kernel: $(uname -r)"
  echo "jdk: $(java -version 2>&1 | sed -n '2s/.*(build \(.*\))$/OpenJDK \1/p')"
  echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (load average over 1, 5, 15 minutes, at the start)"
  echo "limits: ulimit -n $(ulimit -n), ulimit -u $(ulimit -u), kernel.pid_max $(cat /proc/sys/kernel/pid_max)"
} > "$raw/machine.txt"

command -v gcc >/dev/null || { echo "gcc is required for the C baselines (apt-get install gcc)" >&2; exit 1; }
gcc -O2 -static -o "$build/tiny" "$here/c/tiny.c" 2>/dev/null || gcc -O2 -o "$build/tiny" "$here/c/tiny.c"
gcc -O2 -o "$build/spawn_baseline" "$here/c/spawn_baseline.c"
gcc -O2 -pthread -o "$build/echo_baseline" "$here/c/echo_baseline.c"
gcc -O2 -o "$build/pingpong_baseline" "$here/c/pingpong_baseline.c"

(cd "$top" && mvn -B -q install -DskipTests)
jar="$here/target/benchmarks.jar"

if [ "$quick" = 1 ]; then
  jmh_opts=(-f 1 -wi 2 -w 1 -i 3 -r 1)
  # the noisy rows (throughput through cat) are repeated: each fork is one run, the summary takes the median
  noisy_opts=(-f 3 -wi 2 -w 1 -i 3 -r 1)
  c_iterations=300; c_rounds=3; pingpong_iterations=5000
  # the Kryo rows, the targets closest to their goals, run in five interleaved rounds of one fork per side, with
  # a longer warm-up: after 2 seconds the JIT is still compiling umh-flux's side (more code) while it is measured
  round_opts=(-f 1 -wi 4 -w 2 -i 3 -r 1); typed_rounds=5
  echo_opts=(-f 1 -wi 2 -w 1 -i 3 -r 1); echo_rounds=3
  spawn_opts=(-f 1 -wi 2 -w 1 -i 3 -r 1); spawn_rounds=3
  helper_counts=(10 100 500 1000)
else
  jmh_opts=(-f 2 -wi 3 -w 2 -i 5 -r 2)
  noisy_opts=(-f 5 -wi 3 -w 2 -i 5 -r 2)
  c_iterations=1000; c_rounds=5; pingpong_iterations=20000
  round_opts=(-f 1 -wi 5 -w 2 -i 5 -r 2); typed_rounds=5
  echo_opts=(-f 1 -wi 3 -w 2 -i 5 -r 2); echo_rounds=5
  spawn_opts=(-f 1 -wi 3 -w 2 -i 5 -r 2); spawn_rounds=5
  # doubling past 1,000 until the system refuses a helper (descriptors, processes or memory); on a 20,000-fd
  # limit that happens near 5,000 (4 descriptors per helper), well before kernel.pid_max
  helper_counts=(10 100 500 1000 2000 4000 8000 16000 32000)
fi

# Runs the commands given (each one word list, split on spaces) in order in odd rounds and in reverse in even ones,
# so that no side is always measured first: in_round_order ROUND COMMAND...
in_round_order() {
  local round=$1 i
  shift
  local steps=("$@")
  if [ $((10#$round % 2)) = 0 ]; then
    for ((i = ${#steps[@]} - 1; i >= 0; i--)); do ${steps[i]}; done
  else
    for ((i = 0; i < ${#steps[@]}; i++)); do ${steps[i]}; done
  fi
}

echo "== spawn + exit of a tiny executable, unsandboxed and sandboxed, $spawn_rounds interleaved rounds"
# as the raw echo below: each round one fork of umh-flux (both spawns, their ratio within the fork), one of
# ProcessBuilder and the C loop back to back, the order reversed every other round; spawn.json holds the rounds
rm -rf "$raw/spawn"
mkdir -p "$raw/spawn"
: > "$raw/spawn_c.txt"
for round in $(seq -w 1 "$spawn_rounds"); do
  spawn_c() {
    "$build/spawn_baseline" "$build/tiny" "$c_iterations" "$c_rounds" | sed "s/^/round=$round /" >> "$raw/spawn_c.txt"
  }
  spawn_jvm() {
    java -jar "$jar" "benchmarks\\.SpawnBenchmark\\.($1)\$" "${spawn_opts[@]}" \
      -jvmArgsAppend "-Dumh.bench.tiny=$build/tiny" -rf json -rff "$raw/spawn/round-$round-${1%%|*}.json" | tail -n 4
  }
  in_round_order "$round" "spawn_jvm umhFlux|umhFluxSandboxed" "spawn_jvm processBuilder" spawn_c
done
python3 "$here/merge_rounds.py" "$raw/spawn.json" "$raw"/spawn/round-*.json
cat "$raw/spawn_c.txt"

echo "== raw bytes echoed through cat (64 MiB per op), $echo_rounds interleaved rounds"
# ProcessCpuProfiler adds the JVM's CPU time per op (":cpu" rows): steadier than time on a busy machine
cpu_prof=(-prof io.umhflux.benchmarks.ProcessCpuProfiler)
# Each round runs one fork of umh-flux, one of ProcessBuilder and the C loop's rounds (on the kernel's pipes and on
# 1 MiB pipes, the limit), back to back, the order reversed every other round; the summary pairs them by round.
# (JMH runs every fork of one side before the other's, and the C loop would run minutes later.) echo.json holds
# the rounds as forks, in order.
rm -rf "$raw/echo"
mkdir -p "$raw/echo"
: > "$raw/echo_c.txt"
: > "$raw/echo_c_bigpipe.txt"
for round in $(seq -w 1 "$echo_rounds"); do
  echo_c() {
    for chunk in 4096 65536 1048576; do
      "$build/echo_baseline" /bin/cat "$chunk" $((64 << 20)) "$c_rounds" | sed "s/^/round=$round chunk=$chunk /" \
        >> "$raw/echo_c.txt"
      "$build/echo_baseline" /bin/cat "$chunk" $((64 << 20)) "$c_rounds" $((1 << 20)) \
        | sed "s/^/round=$round chunk=$chunk /" >> "$raw/echo_c_bigpipe.txt"
    done
  }
  echo_jvm() {
    java -jar "$jar" "benchmarks\\.EchoBenchmark\\.$1\$" "${echo_opts[@]}" "${cpu_prof[@]}" \
      -p chunk=4096,65536,1048576 -p pipeSize=-1 -p writeSize=0 -rf json -rff "$raw/echo/round-$round-$1.json" \
      | tail -n 17 | grep -v ':cpu\.'
  }
  in_round_order "$round" "echo_jvm umhFlux" "echo_jvm processBuilder" echo_c
done
python3 "$here/merge_rounds.py" "$raw/echo.json" "$raw"/echo/round-*.json
cat "$raw/echo_c.txt" "$raw/echo_c_bigpipe.txt"
# the same on the kernel's 64 KiB pipes (pipeSize(0)), which ProcessBuilder and the C loop have
java -jar "$jar" 'benchmarks\.EchoBenchmark\.umhFlux' "${jmh_opts[@]}" "${cpu_prof[@]}" -p chunk=4096,65536 \
  -p pipeSize=0 -p writeSize=0 -rf json -rff "$raw/echo_kernelpipes.json" | tail -n 6
java -jar "$jar" 'benchmarks\.EchoBenchmark\.umhFlux' "${jmh_opts[@]}" "${cpu_prof[@]}" -p chunk=65536 -p pipeSize=0 \
  -p writeSize=4096 -rf json -rff "$raw/echo_pagewrites.json" | tail -n 3
# a sandboxed cat (Sandbox.confined(), its libraries read-only) against the same cat unsandboxed, in rounds of one
# fork each, back to back (one invocation of -f 3 would run the three sandboxed forks before the three others)
rm -rf "$raw/echo_sandboxed"
mkdir -p "$raw/echo_sandboxed"
for round in $(seq -w 1 "$echo_rounds"); do
  sides=true,false
  if [ $((10#$round % 2)) = 0 ]; then sides=false,true; fi
  java -jar "$jar" 'benchmarks\.EchoBenchmark\.umhFlux' "${echo_opts[@]}" -p chunk=65536 -p pipeSize=-1 \
    -p writeSize=0 -p sandboxed="$sides" -rf json -rff "$raw/echo_sandboxed/round-$round.json" | tail -n 4
done
python3 "$here/merge_rounds.py" "$raw/echo_sandboxed.json" "$raw"/echo_sandboxed/round-*.json

echo "== Kryo messages echoed through cat (length-prefixed frames), $typed_rounds interleaved rounds"
# One fork per side and size in each round, the sides' order alternating from round to round: a round's two runs
# are neighbours in time, so the summary pairs them by round (JMH runs every fork of one side before the other's,
# and a shared machine drifts in between). typed.json holds the rounds as forks, in order.
rm -rf "$raw/typed"
mkdir -p "$raw/typed"
typed_side() {
  # each side's companion row runs in its fork: the sink against umhFlux, NuProcess as ProcessBuilder's peer
  local side=$1 methods
  case "$side" in
    umhFlux) methods='umhFlux|umhFluxSink' ;;
    processBuilder) methods='processBuilder|nuProcess' ;;
  esac
  # -prof comp records the JIT's compile time within the measured iterations (compiler.time.profiled)
  java -jar "$jar" "benchmarks\\.TypedEchoBenchmark\\.($methods)\$" -p size="$size" "${round_opts[@]}" \
    "${cpu_prof[@]}" -prof comp -rf json -rff "$raw/typed/round-$round-$size-$side.json" | tail -n 17
}
for round in $(seq -w 1 "$typed_rounds"); do
  for size in small large; do
    in_round_order "$round" "typed_side umhFlux" "typed_side processBuilder"
  done
done
python3 "$here/merge_rounds.py" "$raw/typed.json" "$raw"/typed/round-*.json

echo "== JSON lines and varint-delimited protobuf echoed through cat (the codec module's JsonCodec, ProtobufCodec)"
java -jar "$jar" 'benchmarks\.ForeignCodecsBenchmark\.(umhFlux|processBuilder)$' "${noisy_opts[@]}" "${cpu_prof[@]}" \
  -rf json -rff "$raw/foreign.json" | tail -n 9
# protobuf's expert loop (one coded stream per direction), an informational row
java -jar "$jar" 'benchmarks\.ForeignCodecsBenchmark\.processBuilderCoded$' -p format=protobuf "${jmh_opts[@]}" \
  "${cpu_prof[@]}" -rf json -rff "$raw/foreign_coded.json" | tail -n 3

echo "== ping-pong: one 32-byte length-prefixed message through cat, wait for its echo, repeat"
# the same echo peer on both sides: /bin/cat (the C parent spawns it as the JMH side does)
"$build/pingpong_baseline" "$pingpong_iterations" "$c_rounds" 32 /bin/cat > "$raw/pingpong_c.txt"
cat "$raw/pingpong_c.txt"
java -jar "$jar" 'benchmarks\.PingPongBenchmark\.' "${jmh_opts[@]}" -rf json -rff "$raw/pingpong.json" | tail -n 4

echo "== request throughput of a pool of 1, 2 and 4 cat helpers"
java -jar "$jar" 'benchmarks\.PoolBenchmark\.' "${jmh_opts[@]}" -rf json -rff "$raw/pool.json" | tail -n 4

echo "== concurrent streaming cat helpers (1 MiB each): ${helper_counts[*]}"
# one JVM per count; many.json is the 1,000 line (the design's target), many_scale.jsonl has them all
rm -f "$raw/many.json"
: > "$raw/many_scale.jsonl"
for n in "${helper_counts[@]}"; do
  if ! line=$(java -cp "$jar" io.umhflux.benchmarks.ManyHelpers "$n" 1 | tail -n 1); then
    echo "ManyHelpers $n failed; the scale test stops here" >&2
    printf '{"helpers":%d,"spawned":0,"limit":"crashed","error":"ManyHelpers exited with a failure, see the log"}\n' \
      "$n" >> "$raw/many_scale.jsonl"
    break
  fi
  echo "$line" | tee -a "$raw/many_scale.jsonl"
  if [ "$n" = 1000 ]; then echo "$line" > "$raw/many.json"; fi
  case "$line" in
    *'"limit"'*) echo "spawning was refused at $n helpers: the scale test stops here"; break ;;
  esac
done

echo "== Flink jobs through the umh-flux stages against the same jobs by hand (one MiniCluster)"
# Flink is a provided dependency, kept out of benchmarks.jar: its class path is the one mvn package wrote to
# target/flink.classpath, and on Java 17 it needs the --add-opens flags of the root pom's flink.argLine
flink_argline=$(sed -n 's:.*<flink\.argLine>\(.*\)</flink\.argLine>.*:\1:p' "$top/pom.xml")
[ -n "$flink_argline" ] || { echo "no <flink.argLine> in $top/pom.xml" >&2; exit 1; }
read -ra flink_opts <<< "$flink_argline"
flink_args=("$raw/flink.json")
if [ "$quick" = 1 ]; then flink_args=(--quick "${flink_args[@]}"); fi
# a failed run leaves no flink.json (not the last run's), so the summary has no Flink rows instead of stale ones
rm -f "$raw/flink.json"
java "${flink_opts[@]}" -cp "$jar:$(cat "$here/target/flink.classpath")" io.umhflux.benchmarks.FlinkStages \
  "${flink_args[@]}" || echo "FlinkStages failed with exit status $?; the summary has no Flink rows" >&2

python3 "$here/summarize.py" "$raw" "$here/results" "$top/BENCHMARKS.md"
cat "$here/results/summary.md"

echo "== charts"
java -Djava.awt.headless=true -cp "$jar" io.umhflux.benchmarks.Charts "$raw" "$charts" \
  || echo "charts: failed with exit status $? (the summary above is complete)" >&2
