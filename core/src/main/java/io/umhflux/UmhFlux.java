package io.umhflux;

import io.netty.buffer.ByteBuf;
import io.umhflux.internal.handle.HelperHandle;
import io.umhflux.internal.pipe.RawChunks;
import io.umhflux.internal.loop.EventLoops;
import java.time.Duration;

/**
 * The entry point: spawn a {@link Blob} as a helper process and talk to it through reactive streams.
 *
 * <pre>{@code
 * try (Blob cat = Blob.of(Path.of("/bin/cat"))) {
 *     Umh<ByteBuf, ByteBuf> umh = UmhFlux.spawn(cat);
 *     umh.outbound().send(Flux.just(Unpooled.copiedBuffer("hello\n", UTF_8))).subscribe(null, e -> { });
 *     byte[] echoed = umh.inbound().map(ByteBufUtil::getBytes)    // ByteBufs are released after onNext
 *             .collect(ByteArrayOutputStream::new, ByteArrayOutputStream::writeBytes)
 *             .map(ByteArrayOutputStream::toByteArray).block();    // decode text once, not per chunk
 * }
 * }</pre>
 *
 * <p>This is Linux's {@code fork_usermode_blob()} for the JVM: the helper's code is part of the
 * application's own data, executed from a sealed in-memory file, tied to its owner by pipes and a pid,
 * and killed when the owner is done with it.
 */
public final class UmhFlux {
    private UmhFlux() {
    }

    /**
     * Spawns {@code blob} with no arguments, the JVM's environment and raw byte pipes.
     *
     * @throws SpawnException when the kernel refuses to start it
     * @throws UnsupportedOperationException off Linux x86_64/aarch64
     */
    public static Umh<ByteBuf, ByteBuf> spawn(Blob blob) {
        return spec(blob).spawn();
    }

    /** A spec for {@code blob} with raw byte pipes and the defaults, to set arguments and limits on. */
    public static UmhSpec<ByteBuf, ByteBuf> spec(Blob blob) {
        return UmhSpec.of(blob, RawChunks.SUPPLIER, RawChunks.SUPPLIER, true);
    }

    /**
     * Stops every helper this copy of the library runs (each within its stop grace, then its process group killed),
     * ends the threads of the shared event loops and removes the JVM-exit hook: for code whose class loader is let
     * go while the JVM lives on (a Flink job's user code, a redeployed web application), so that none of its
     * helpers or threads outlives it or keeps the class loader reachable. Blocks until done: at most twice the
     * longest stop grace plus a second, then up to {@code timeout} for the loops' threads.
     *
     * <p>Specs made before keep the stopped loops, and their {@code spawn} fails with an
     * {@link IllegalStateException}; specs made afterwards start new loops. Loops of a group the application gave
     * a spec ({@link UmhSpec#eventLoopGroup}) are the application's to shut down.
     *
     * @return whether the loops' threads ended within {@code timeout}
     */
    public static boolean shutdown(Duration timeout) {
        java.util.Objects.requireNonNull(timeout, "timeout");
        HelperHandle.stopEveryHelper();
        return EventLoops.shutdownShared(timeout);
    }
}
