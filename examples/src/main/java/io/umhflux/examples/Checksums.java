package io.umhflux.examples;

import io.netty.buffer.ByteBuf;
import io.umhflux.Blob;
import io.umhflux.UmhFlux;
import io.umhflux.UmhSpec;
import io.umhflux.codec.Codec;
import io.umhflux.codec.Codecs;
import io.umhflux.codec.Framing;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.zip.CRC32;
import reactor.core.publisher.Flux;

/**
 * Typed messages through a C helper that ships inside this jar: the build compiles
 * {@code src/main/c/checksum.c} with gcc into the class path resource {@value #RESOURCE}, and each helper
 * is spawned from those bytes, never from a file on disk.
 *
 * <p>The helper reads length-prefixed frames and answers each with one {@link Checksum}: the payload's
 * CRC-32 and length. It exits 0 at end of input and 2 (with a message on stderr) on a malformed frame, and
 * crashes with SIGSEGV on the payload {@value #POISON}, after answering every frame before it: material
 * for crash isolation.
 *
 * <pre>{@code
 * try (Blob helper = Blob.fromClasspath(Checksums.RESOURCE)) {          // built by Maven, shipped in the jar
 *     return Checksums.spec(helper)                                     // length-prefixed frames both ways
 *             .exchange(Flux.fromIterable(payloads))                   // a fresh helper per subscription
 *             .collectList()
 *             .block();
 * }
 * }</pre>
 */
public final class Checksums {
    /** The class path resource the build compiles the helper into (absent where gcc was missing). */
    public static final String RESOURCE = "helpers/checksum";
    /** The largest payload the helper accepts; a longer frame makes it exit 2. */
    public static final int MAX_PAYLOAD = 16 << 20;
    /** The payload on which the helper crashes with SIGSEGV. */
    public static final String POISON = "poison";

    private Checksums() {
    }

    /**
     * One answer of the helper.
     *
     * @param crc32 the payload's CRC-32, as {@link CRC32} computes it
     * @param length the payload's length in bytes
     */
    public record Checksum(long crc32, int length) {
        /** The answer the helper gives for {@code payload}, computed in Java. */
        public static Checksum of(byte[] payload) {
            CRC32 crc = new CRC32();
            crc.update(payload);
            return new Checksum(crc.getValue(), payload.length);
        }
    }

    /** @return whether the build compiled the helper into the class path (it needs gcc) */
    public static boolean isBuilt() {
        return Checksums.class.getClassLoader().getResource(RESOURCE) != null;
    }

    /**
     * The helper's bytes, loaded from the class path into a sealed memfd. Close the blob when no more helpers
     * will be spawned from it.
     *
     * @throws io.umhflux.BlobException when the build did not compile it (see {@link #isBuilt()})
     */
    public static Blob blob() {
        return Blob.fromClasspath(RESOURCE);
    }

    /** A spec for the helper: payloads go out as length-prefixed frames, {@link Checksum}s come back. */
    public static UmhSpec<Checksum, byte[]> spec(Blob helper) {
        return typed(UmhFlux.spec(helper));
    }

    /** {@code raw} with the helper's framing and codecs: payloads out, {@link Checksum}s back. */
    public static UmhSpec<Checksum, byte[]> typed(UmhSpec<ByteBuf, ByteBuf> raw) {
        return raw.codec(Framing.lengthPrefixed(MAX_PAYLOAD), AnswerCodec.INSTANCE, Codecs.bytes());
    }

    /** The checksums of {@code payloads}, in order, computed by one helper spawned from the jar's bytes. */
    public static List<Checksum> checksums(List<byte[]> payloads) {
        try (Blob helper = blob()) {                                     // built by Maven, shipped in the jar
            return spec(helper)                                          // length-prefixed frames both ways
                    .exchange(Flux.fromIterable(payloads))               // a fresh helper per subscription
                    .collectList()
                    .block();
        }
    }

    /** Prints the CRC-32 and length of each argument's UTF-8 bytes. */
    public static void main(String[] args) {
        List<byte[]> payloads = new ArrayList<>();
        for (String a : args.length == 0 ? new String[] {"hello", "world"} : args) {
            payloads.add(a.getBytes(StandardCharsets.UTF_8));
        }
        List<Checksum> answers = checksums(payloads);
        for (int i = 0; i < answers.size(); i++) {
            System.out.printf(Locale.ROOT, "%08x %6d  %s%n", answers.get(i).crc32(), answers.get(i).length(),
                    new String(payloads.get(i), StandardCharsets.UTF_8));
        }
    }

    /** The helper's answer frame: the CRC-32, then the length, both 4 bytes big-endian. */
    private enum AnswerCodec implements Codec<Checksum> {
        INSTANCE;

        @Override
        public void encode(Checksum value, ByteBuf out) {
            out.writeInt((int) value.crc32()).writeInt(value.length());
        }

        @Override
        public Checksum decode(ByteBuf frame) {
            if (frame.readableBytes() != 8) {
                throw new IllegalArgumentException("an answer is 8 bytes, not " + frame.readableBytes());
            }
            return new Checksum(frame.readUnsignedInt(), frame.readInt());
        }
    }
}
