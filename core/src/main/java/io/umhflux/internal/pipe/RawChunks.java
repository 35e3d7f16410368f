package io.umhflux.internal.pipe;

import io.netty.buffer.ByteBuf;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Raw bytes both ways: each read from stdout becomes one {@link ByteBuf} message (released after
 * {@code onNext}, as reactor-netty does; {@code retain()} it to keep it), and each outbound {@code ByteBuf}
 * is written as it is and released once written.
 */
public final class RawChunks implements FrameDecoder<ByteBuf>, FrameEncoder<ByteBuf> {
    public static final RawChunks INSTANCE = new RawChunks();
    /** The one supplier of raw chunks: a spec whose decoder supplier is this one never decodes. */
    public static final Supplier<RawChunks> SUPPLIER = () -> INSTANCE;

    private RawChunks() {
    }

    @Override
    public @Nullable ByteBuf decode(ByteBuf in, long offset) {
        return in.isReadable() ? in.readRetainedSlice(in.readableBytes()) : null;
    }

    @Override
    public boolean releaseAfterDelivery() {
        return true;
    }

    @Override
    public void encode(ByteBuf message, ByteBuf out) {
        out.writeBytes(message, message.readerIndex(), message.readableBytes());
    }

    @Override
    public boolean passThrough() {
        return true;
    }

    /** Holds no arrays. */
    @Override
    public void releaseArrays() {
    }
}
