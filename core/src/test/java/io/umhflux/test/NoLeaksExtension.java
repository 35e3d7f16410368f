package io.umhflux.test;

import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.assertj.core.api.SoftAssertions;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class that leaves a child process of the test JVM behind (a helper not reaped within 10 s)
 * or leaks a {@code ByteBuf} (Netty's leak detector at PARANOID tracks every buffer). Registered for every
 * test class by JUnit's extension autodetection, so the detector is installed before the first buffer: each
 * module that uses it names it in its {@code META-INF/services/org.junit.jupiter.api.extension.Extension} and
 * enables autodetection in its {@code junit-platform.properties}. Core's test-jar carries it to the other
 * modules.
 */
public final class NoLeaksExtension implements AfterAllCallback {
    private static final List<String> LEAKS = new CopyOnWriteArrayList<>();

    static {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new ResourceLeakDetectorFactory() {
            @Override
            @SuppressWarnings("deprecation")
            public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval,
                    long maxActive) {
                return new ResourceLeakDetector<>(resource, samplingInterval) {
                    @Override
                    protected void reportTracedLeak(String resourceType, String records) {
                        LEAKS.add(resourceType + " leaked:" + records);
                    }

                    @Override
                    protected void reportUntracedLeak(String resourceType) {
                        LEAKS.add(resourceType + " leaked");
                    }
                };
            }
        });
    }

    @Override
    public void afterAll(ExtensionContext context) {
        List<String> left = new ArrayList<>();
        try {
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> children().isEmpty());
        } catch (ConditionTimeoutException e) {
            for (long pid : children()) {
                left.add(pid + " " + describe(pid));
            }
        }
        // a leak is reported when the tracker of a collected buffer is polled, which allocating does
        for (int round = 0; round < 3; round++) {
            System.gc();
            for (int i = 0; i < 64; i++) {
                ByteBufAllocator.DEFAULT.directBuffer(16).release();
            }
        }
        // taken even when children are left, so that this class's leaks are not blamed on the next one
        List<String> leaks = List.copyOf(LEAKS);
        LEAKS.clear();
        SoftAssertions.assertSoftly(softly -> {
            softly.assertThat(left).as("child processes left by %s", context.getDisplayName()).isEmpty();
            softly.assertThat(leaks).as("ByteBuf leaks reported by Netty during %s", context.getDisplayName())
                    .isEmpty();
        });
    }

    /** The pids of this JVM's child processes, running or not yet reaped. */
    public static List<Long> children() {
        List<Long> pids = new ArrayList<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                String list;
                try {
                    list = Files.readString(task.resolve("children"));
                } catch (IOException threadEnded) {
                    continue;
                }
                for (String pid : list.trim().split("\\s+")) {
                    if (!pid.isEmpty()) {
                        pids.add(Long.parseLong(pid));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return pids;
    }

    /** The state and command line of {@code pid}, for a failure message. */
    public static String describe(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String cmdline = new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")),
                    StandardCharsets.UTF_8).replace('\0', ' ');
            return "state " + stat.substring(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) + ": " + cmdline;
        } catch (IOException gone) {
            return "(gone)";
        }
    }
}
