package io.umhflux.pipe;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.umhflux.Blob;
import io.umhflux.TestHelpers;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import io.umhflux.UmhSpec;
import io.umhflux.codec.Codec;
import io.umhflux.codec.Framing;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

/**
 * Inbound edge cases around the read path's shortcuts: a helper that resizes its own stdout pipe, codecs
 * that read their frame by absolute index or keep retained slices of it, a heap-preferring allocator.
 */
class InboundEdgeCasesTest {

    private static final String RESIZER = "#define _GNU_SOURCE\n#include <fcntl.h>\n#include <unistd.h>\n"
            + "#include <stdlib.h>\n#include <string.h>\n"
            + "int main(int argc, char **argv) {\n"
            + "  usleep(500000);\n"
            + "  if (argc > 1 && fcntl(1, F_SETPIPE_SZ, atoi(argv[1])) < 0) return 3;\n"
            + "  size_t n = 256 * 1024; char *b = malloc(n); memset(b, 'x', n);\n"
            + "  for (size_t off = 0; off < n;) {\n"
            + "    ssize_t w = write(1, b + off, n - off); if (w <= 0) return 4; off += w; }\n"
            + "  char c; while (read(0, &c, 1) > 0) {}\n" // wait for the client (stdin EOF) before exiting
            + "  return 0;\n}\n";

    private static long readUntil(Umh<ByteBuf, ByteBuf> umh, long total, Duration timeout) {
        Long got = umh.inbound().map(b -> (long) b.readableBytes())
                .scan(0L, Long::sum)
                .takeUntil(n -> n >= total)
                .timeout(timeout, Flux.empty())
                .last(0L)
                .block(TestHelpers.TIMEOUT);
        return got;
    }

    /**
     * Runs the resizer helper with {@code configure} applied to its spec; the bytes received within 5 s while the
     * helper, having written 256 KiB, waits for stdin's end of file.
     */
    private static long resizerDelivers(java.util.function.UnaryOperator<UmhSpec<ByteBuf, ByteBuf>> configure)
            throws Exception {
        Path exe = TestHelpers.compileC(Files.createTempDirectory("resizer"), "resizer", RESIZER);
        Assumptions.assumeTrue(exe != null, "gcc");
        try (Blob b = Blob.of(exe)) {
            Umh<ByteBuf, ByteBuf> umh = configure.apply(UmhFlux.spec(b)).spawn();
            long got = readUntil(umh, 256 * 1024, Duration.ofSeconds(5));
            umh.outbound().close().block(TestHelpers.TIMEOUT);
            return got;
        }
    }

    /** The helper enlarges its stdout pipe: a read of 64 KiB must not be taken as "the pipe is empty". */
    @Test
    void aHelperThatEnlargesItsStdoutPipeIsNotStalled() throws Exception {
        assertThat(resizerDelivers(spec -> spec.args(Integer.toString(1 << 20)))).isEqualTo(256 * 1024);
    }

    /** The same pipe size, set by the library. */
    @Test
    void theSamePipeSizeSetByTheLibrary() throws Exception {
        assertThat(resizerDelivers(spec -> spec.pipeSize(1 << 20))).isEqualTo(256 * 1024);
    }

    /** A codec that reads its frame by absolute index: index 0 is the frame's first byte. */
    private enum FirstByte implements Codec<Integer> {
        INSTANCE;

        @Override
        public void encode(Integer value, ByteBuf out) {
            out.writeByte(value);
            out.writeByte(value);
        }

        @Override
        public Integer decode(ByteBuf frame) {
            int v = frame.getByte(0) & 0xff; // "the frame": index 0 is its first byte
            frame.skipBytes(frame.readableBytes());
            return v;
        }
    }

    @Test
    void aCodecThatIndexesItsFrameFromZeroReadsItsOwnBytes() {
        try (Blob cat = TestHelpers.cat()) {
            Umh<Integer, Integer> umh = UmhFlux.spec(cat)
                    .codec(Framing.lengthPrefixed(1024), FirstByte.INSTANCE, FirstByte.INSTANCE).spawn();
            List<Integer> sent = IntStream.range(1, 100).boxed().toList();
            umh.outbound().send(Flux.fromIterable(sent)).subscribe();
            List<Integer> got = umh.inbound().collectList().block(TestHelpers.TIMEOUT);
            assertThat(got).isEqualTo(sent);
        }
    }

    /**
     * A codec that keeps retained slices of what was read, with a heap-preferring allocator: the buffer read
     * into must stay native (read(2) needs an address) even when a cumulator grew it with the allocator.
     */
    @Test
    void aRetainingCodecWithAHeapPreferringAllocatorReadsEverything() {
        try (Blob cat = TestHelpers.cat()) {
            Umh<ByteBuf, ByteBuf> umh = UmhFlux.spec(cat)
                    .codec(Framing.lengthPrefixed(1 << 20), new RetainingCodec(), new RetainingCodec())
                    .allocator(new UnpooledByteBufAllocator(false))
                    .readSize(4096)
                    .spawn();
            int count = 2000;
            umh.outbound().send(Flux.range(0, count).map(i -> {
                ByteBuf b = io.netty.buffer.Unpooled.buffer(100);
                b.writeZero(37 + i % 50);
                return b;
            })).subscribe();
            java.util.concurrent.atomic.AtomicInteger seen = new java.util.concurrent.atomic.AtomicInteger();
            umh.inbound().publishOn(reactor.core.scheduler.Schedulers.boundedElastic(), 64).doOnNext(b -> {
                if (seen.incrementAndGet() % 50 == 0) {
                    try {
                        Thread.sleep(5); // a slow consumer: slices stay retained while more is read
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }
                b.release();
            }).then().block(TestHelpers.TIMEOUT);
            assertThat(seen.get()).isEqualTo(count);
        }
    }
}
