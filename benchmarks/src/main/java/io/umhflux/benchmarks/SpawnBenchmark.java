package io.umhflux.benchmarks;

import io.netty.channel.IoEventLoop;
import io.umhflux.Blob;
import io.umhflux.ExitStatus;
import io.umhflux.internal.loop.EventLoops;
import io.umhflux.internal.process.HelperProcess;
import io.umhflux.internal.process.Launcher;
import io.umhflux.internal.sandbox.SandboxLauncher;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Spawn + exit of a tiny executable, with three pipes, waiting for the exit status: umh-flux (from a sealed
 * memfd blob) against JDK {@code ProcessBuilder} (from the same bytes on disk). The C {@code posix_spawn}
 * baseline runs outside the JVM ({@code benchmarks/c/spawn_baseline.c}); {@code benchmarks/run.sh} puts
 * the three side by side.
 *
 * <p>The executable is {@code -Dumh.bench.tiny=PATH} (run.sh builds a static {@code tiny.c}), else
 * {@code /bin/true}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class SpawnBenchmark {
    private Path executable;
    private Blob blob;
    private IoEventLoop loop;
    private Launcher.Request request;

    @Setup(Level.Trial)
    public void setUp() {
        executable = Path.of(System.getProperty("umh.bench.tiny", "/bin/true"));
        blob = Blob.of(executable);
        loop = EventLoops.shared().next();
        request = new Launcher.Request("tiny", List.of(), Benchmarks.envp(), null, 0);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        blob.close();
    }

    @Benchmark
    public ExitStatus umhFlux() throws Exception {
        HelperProcess p = Launcher.standard().launch(Benchmarks.loaded(blob), request, loop);
        ExitStatus status = p.onExit().get();
        p.closePipes();
        return status;
    }

    /**
     * The same through the sandbox's launcher with the default policy ({@code Sandbox.confined()}: Landlock with
     * no path, no network, the seccomp filter, {@code no_new_privs}): what confining a helper costs at its spawn.
     */
    @Benchmark
    public ExitStatus umhFluxSandboxed() throws Exception {
        HelperProcess p = SandboxLauncher.launch(Benchmarks.loaded(blob), List.of(), false, request, loop);
        ExitStatus status = p.onExit().get();
        p.closePipes();
        return status;
    }

    @Benchmark
    public int processBuilder() throws Exception {
        Process p = new ProcessBuilder(executable.toString()).start();
        int code = p.waitFor();
        p.getOutputStream().close();
        p.getInputStream().close();
        p.getErrorStream().close();
        return code;
    }
}
