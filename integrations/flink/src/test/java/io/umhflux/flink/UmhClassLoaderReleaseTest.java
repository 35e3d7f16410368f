package io.umhflux.flink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.streaming.util.TestStreamEnvironment;
import org.apache.flink.util.FlinkUserCodeClassLoader;
import org.junit.jupiter.api.Test;

/**
 * umh-flux shipped in the job's jars, as users ship it: Flink loads it (and Netty, Reactor, jnr) child-first into
 * the job's user-code class loader, so its event loops, JVM-exit hook and Reactor's schedulers are the job's own.
 * Once the job (both stages) ended and Flink released that class loader, none of the job's threads of these
 * libraries is left.
 */
class UmhClassLoaderReleaseTest {
    /** The libraries a job carries with umh-flux (Flink, slf4j and Kryo come from Flink's own class path). */
    private static final List<String> SHIPPED = List.of("umh-flux", "netty-", "reactor-core", "reactive-streams",
            "jnr-", "jffi", "/asm", "reactor-pool");

    @Test
    void theJobsThreadsEndOnceItsClassLoaderIsReleased() throws Exception {
        Path dir = Path.of("target", "job-jars");
        List<org.apache.flink.core.fs.Path> jars = jobJars(dir);
        MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder().setNumTaskManagers(1)
                .setNumSlotsPerTaskManager(2).setConfiguration(new Configuration()).build());
        cluster.start();
        Set<Thread> before = new HashSet<>(Thread.getAllStackTraces().keySet());
        Set<Thread> jobs = new HashSet<>();
        try {
            TestStreamEnvironment.setAsContext(cluster, 2, jars, List.of());
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            UmhHelper<String, String> cat = UmhHelper.ofResource("helpers/slow_cat.sh").codec(s -> s.lines(64));
            DataStream<String> records = env.fromSequence(0, 4_999).map(i -> "r" + i).returns(Types.STRING);
            UmhHelper<String, String> where = UmhHelper.ofResource("helpers/where.sh").codec(s -> s.lines(1024));
            UmhStages.requests(UmhStages.pipe(records, cat, Types.STRING), where, Types.STRING,
                    Duration.ofSeconds(30), 16).sinkTo(new DiscardingSink<>());
            var job = env.executeAsync("shipped with the job");
            // while it runs: loop threads of a umh-flux (and Netty) loaded by the job's class loader
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                jobs.addAll(jobLibraryThreads(before));
                return jobs.stream().anyMatch(t -> t.getName().startsWith("umh-flux-"));
            });
            job.getJobExecutionResult().get();
            // Flink releases the job's class loader once its tasks are gone from the task manager
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(jobs.stream()
                    .filter(Thread::isAlive).map(Thread::getName).collect(Collectors.toList()))
                    .as("threads of the job's umh-flux, Netty and Reactor left after its class loader was released")
                    .isEmpty());
        } finally {
            TestStreamEnvironment.unsetAsContext();
            cluster.close();
        }
    }

    /** Threads started since {@code before} whose class a job's class loader defined (Netty's loop threads). */
    private static List<Thread> jobLibraryThreads(Set<Thread> before) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> !before.contains(t))
                .filter(t -> t.getClass().getClassLoader() instanceof FlinkUserCodeClassLoader)
                .collect(Collectors.toList());
    }

    /** The jars of umh-flux and what it needs from this class path, class directories packed into jars. */
    private static List<org.apache.flink.core.fs.Path> jobJars(Path dir) throws IOException {
        Files.createDirectories(dir);
        List<org.apache.flink.core.fs.Path> jars = new ArrayList<>();
        int packed = 0;
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(entry).toAbsolutePath();
            boolean ours = p.endsWith(Path.of("target", "classes")) || p.endsWith(Path.of("target", "test-classes"));
            if (Files.isDirectory(p) && (ours || SHIPPED.stream().anyMatch(entry::contains))) {
                Path jar = dir.resolve("classes-" + packed++ + ".jar");
                pack(p, jar);
                jars.add(new org.apache.flink.core.fs.Path(jar.toUri()));
            } else if (entry.endsWith(".jar") && SHIPPED.stream().anyMatch(entry::contains)) {
                jars.add(new org.apache.flink.core.fs.Path(p.toUri()));
            }
        }
        assertThat(jars).as("jars of the job").hasSizeGreaterThan(5);
        return jars;
    }

    private static void pack(Path classes, Path jar) throws IOException {
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file);
                Stream<Path> all = Files.walk(classes)) {
            for (Path f : (Iterable<Path>) all.filter(Files::isRegularFile)::iterator) {
                out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace(File.separatorChar, '/')));
                Files.copy(f, out);
                out.closeEntry();
            }
        }
    }
}
