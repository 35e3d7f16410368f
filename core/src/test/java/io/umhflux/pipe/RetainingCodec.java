package io.umhflux.pipe;

import io.netty.buffer.ByteBuf;
import io.umhflux.codec.Codec;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A zero-copy codec for the tests: each message is a retained slice of what was read (the subscriber releases
 * it), and every slice handed out is remembered, so a test can check that none is left unreleased.
 */
final class RetainingCodec implements Codec<ByteBuf> {
    final List<ByteBuf> decoded = new CopyOnWriteArrayList<>();

    @Override
    public void encode(ByteBuf value, ByteBuf out) {
        out.writeBytes(value, value.readerIndex(), value.readableBytes()); // the writer releases value
    }

    @Override
    public ByteBuf decode(ByteBuf frame) {
        ByteBuf b = frame.readRetainedSlice(frame.readableBytes());
        decoded.add(b);
        return b;
    }
}
