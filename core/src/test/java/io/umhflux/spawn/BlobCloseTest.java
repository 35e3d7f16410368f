package io.umhflux.spawn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.umhflux.Blob;
import io.umhflux.ExitStatus;
import io.umhflux.SpawnException;
import io.umhflux.TestHelpers;
import io.umhflux.internal.os.Os;
import io.umhflux.internal.process.HelperProcess;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/**
 * A blob closed while its helpers start: a script's interpreter opens the memfd by path after the spawn returned, so
 * the placement stays until the helper is reaped, and a close that races a spawn either lets it run or refuses it.
 */
class BlobCloseTest {
    /**
     * Closed right after the spawn returned, and another blob loaded at once (which would take a freed descriptor
     * number): the helper still runs its own script.
     */
    @Test
    void aScriptClosedRightAfterItsSpawnRunsItsOwnBytes() throws Exception {
        List<String> wrong = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            Blob blob = TestHelpers.script("mine", "echo mine");
            HelperProcess p = TestHelpers.spawn(blob);
            blob.close();
            Blob other = TestHelpers.script("other", "echo OTHER");
            ExitStatus status;
            try {
                status = p.onExit().get(TestHelpers.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                p.killGroup(Os.SIGKILL); // reading a descriptor that is not its script
                status = TestHelpers.awaitExit(p);
            }
            String out = TestHelpers.readAllStdout(p);
            p.closePipes();
            other.close();
            if (!out.equals("mine\n") || !status.isSuccess()) {
                wrong.add("run " + i + ": stdout " + out.strip() + ", " + status);
            }
        }
        assertThat(wrong).as("helpers that did not run their own script").isEmpty();
    }

    /** The memfd of a closed blob is freed once its last helper was reaped, not before. */
    @Test
    void aClosedBlobsMemfdGoesWithItsLastHelper() throws Exception {
        Set<String> before = TestHelpers.openFds();
        Blob blob = TestHelpers.script("waits", "read line; echo \"$line\"");
        HelperProcess p = TestHelpers.spawn(blob);
        blob.close();
        try {
            assertThat(blob.isClosed()).isTrue();
            assertThat(TestHelpers.newFds(before)).as("descriptors while the helper runs")
                    .anyMatch(fd -> fd.contains("memfd:umh:waits"));
            TestHelpers.out(p.stdin()).write("still mine\n".getBytes());
            assertThat(TestHelpers.readAllStdout(p)).isEqualTo("still mine\n");
            assertThat(TestHelpers.awaitExit(p).isSuccess()).isTrue();
        } finally {
            p.killGroup(Os.SIGKILL); // nothing once it exited
            TestHelpers.awaitExit(p);
            p.closePipes();
        }
        await().atMost(TestHelpers.TIMEOUT).untilAsserted(() -> assertThat(TestHelpers.newFds(before))
                .as("descriptors once it was reaped").noneMatch(fd -> fd.contains("memfd:umh:waits")));
    }

    /** A close racing a spawn: the spawn runs the blob or is refused as closed, never a misleading errno. */
    @Test
    void aCloseRacingASpawnRunsItOrRefusesIt() throws Exception {
        Map<String, Integer> outcomes = new TreeMap<>();
        CyclicBarrier go = new CyclicBarrier(2);
        for (int i = 0; i < 200; i++) {
            Blob blob = Blob.of(Path.of("/bin/true"));
            int spins = (int) (Math.random() * 2000);
            Thread closer = new Thread(() -> {
                try {
                    go.await();
                    for (int spin = spins; spin > 0; spin--) {
                        Thread.onSpinWait();
                    }
                    blob.close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            closer.start();
            go.await();
            String outcome;
            try {
                HelperProcess p = TestHelpers.spawn(blob);
                ExitStatus status = TestHelpers.awaitExit(p);
                p.closePipes();
                outcome = "ran, " + status.summary();
            } catch (IllegalStateException e) {
                outcome = "refused: " + e.getMessage();
            } catch (SpawnException e) {
                outcome = "SpawnException " + e.getMessage();
            }
            closer.join();
            outcomes.merge(outcome.replaceAll("/fd/\\d+", "/fd/N"), 1, Integer::sum);
        }
        assertThat(outcomes.keySet()).as("%s", outcomes)
                .allMatch(o -> o.equals("ran, exit 0") || o.equals("refused: blob 'true' is closed"));
    }
}
