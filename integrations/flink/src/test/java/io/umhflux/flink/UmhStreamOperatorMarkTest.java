package io.umhflux.flink;

import static io.umhflux.flink.FlinkJobs.sha256;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.umhflux.Blob;
import io.umhflux.Umh;
import io.umhflux.UmhSink;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Sinks;

/**
 * Which high-water mark the streaming stage's helper gets: the stage's 1 MiB unless the helper's codec function
 * sets one. Shown by how many 32-byte lines the stdin sink of a helper that never reads ({@code sleep}) takes before
 * it refuses more: once the pipe is full, the sink is asked for no more than its last request, which the mark
 * bounds (about 8,200 lines at the library's default of 256 KiB).
 */
class UmhStreamOperatorMarkTest {
    private static final String LINE = "x".repeat(31);

    @Test
    void theStageMarkHoldsWhenTheCodecFunctionSetsNone() throws Exception {
        long taken = takenBeforeRefusal(sleeper().codec(spec -> spec.lines(64).pipeSize(0)));
        // one whole sink request of 16,384 lines: room for it only under a mark above 512 KiB
        assertThat(taken).isGreaterThanOrEqualTo(16_000);
    }

    @Test
    void aMarkTheCodecFunctionSetsWinsOverTheStages() throws Exception {
        long taken = takenBeforeRefusal(sleeper().codec(spec -> spec.lines(64).pipeSize(0).highWaterMark(4096)));
        // the pipe's 64 KiB and requests of 128 lines (4 KiB) while it filled
        assertThat(taken).isBetween(1L, 4_000L);
    }

    private static UmhHelper<ByteBuf, ByteBuf> sleeper() throws Exception {
        byte[] bytes = Files.readAllBytes(Path.of("/bin/sleep"));
        return UmhHelper.ofBytes("sleep", bytes, sha256(bytes)).args("60");
    }

    /**
     * Offers lines to the helper's stdin sink until it has refused them for half a second in a row (the event loop
     * moves what the sink took into the pipe and asks for more meanwhile), and returns how many it took.
     */
    private static long takenBeforeRefusal(UmhHelper<String, String> helper) throws Exception {
        try (Blob blob = Blob.of(Path.of("/bin/sleep"))) {
            Umh<String, String> umh = UmhStreamOperator.spawnSpec(helper, blob).spawn();
            try {
                UmhSink<String> sink = umh.outbound().sink();
                long taken = 0;
                long refusedSince = 0;
                while (taken < 1_000_000) {
                    Sinks.EmitResult r = sink.tryEmit(LINE);
                    if (r.isSuccess()) {
                        taken++;
                        refusedSince = 0;
                        continue;
                    }
                    assertThat(r).as("the sink's answer to a full stdin").isEqualTo(Sinks.EmitResult.FAIL_OVERFLOW);
                    long now = System.nanoTime();
                    if (refusedSince == 0) {
                        refusedSince = now;
                    } else if (now - refusedSince > 500_000_000L) {
                        return taken;
                    }
                    Thread.sleep(5);
                }
                return taken;
            } finally {
                umh.dispose();
            }
        }
    }
}
