package io.umhflux;

import io.netty.buffer.ByteBuf;
import io.umhflux.internal.pipe.RawChunks;

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
        return UmhSpec.of(blob, RawChunks.SUPPLIER, RawChunks.SUPPLIER);
    }
}
