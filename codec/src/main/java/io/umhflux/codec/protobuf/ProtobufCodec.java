package io.umhflux.codec.protobuf;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.netty.buffer.ByteBuf;
import io.umhflux.codec.ArrayCodec;
import java.util.Objects;

/**
 * One protobuf message per frame: use it with {@code Framing.varintPrefixed(max)}, and the bytes on the pipe are
 * exactly what protobuf's {@code writeDelimitedTo} writes and {@code parseDelimitedFrom} reads, in Java, C++, Go,
 * Python or C (a varint length, then the message).
 *
 * <pre>{@code
 * Umh<Reading, Query> sensors = UmhFlux.spec(Blob.fromClasspath("helpers/sensors"))
 *         .codec(Framing.varintPrefixed(1 << 20), ProtobufCodec.of(Reading.parser()), ProtobufCodec.of(Query.parser()))
 *         .spawn();
 * }</pre>
 *
 * <p>Reading: the framing checks the declared length against its maximum before a byte of the message is read;
 * bytes that are not a message of the parser's type fail the inbound with a {@link io.umhflux.HelperFailedException}
 * ("bad frame on stdout") naming the frame's offset, after every earlier message was delivered. Thread-safe
 * (protobuf's parsers are).
 *
 * <p>An {@link ArrayCodec}: small frames are parsed in the array they were read into, and under the length-prefixed
 * framing each message is written straight into the writer's batch (its size is known before it is written, so one
 * that does not fit is not serialized there).
 *
 * @param <T> the message type
 */
public final class ProtobufCodec<T extends MessageLite> implements ArrayCodec<T> {
    private final Parser<T> parser;

    private ProtobufCodec(Parser<T> parser) {
        this.parser = parser;
    }

    /** @param parser the message type's parser, like {@code Reading.parser()} */
    public static <T extends MessageLite> ProtobufCodec<T> of(Parser<T> parser) {
        return new ProtobufCodec<>(Objects.requireNonNull(parser, "parser"));
    }

    @Override
    public void encode(T value, ByteBuf out) throws java.io.IOException {
        int size = value.getSerializedSize();
        out.ensureWritable(size);
        if (out.hasArray()) {
            int at = out.arrayOffset() + out.writerIndex();
            CodedOutputStream coded = CodedOutputStream.newInstance(out.array(), at, size);
            value.writeTo(coded);
            coded.checkNoSpaceLeft();
        } else {
            CodedOutputStream coded = CodedOutputStream.newInstance(out.internalNioBuffer(out.writerIndex(), size));
            value.writeTo(coded);
            coded.flush();
        }
        out.writerIndex(out.writerIndex() + size);
    }

    @Override
    public int encode(T value, byte[] array, int offset, int limit) throws java.io.IOException {
        int size = value.getSerializedSize(); // kept by the message: the write below does not compute it again
        if (size > limit - offset) {
            return -1;
        }
        CodedOutputStream coded = CodedOutputStream.newInstance(array, offset, size);
        value.writeTo(coded);
        coded.checkNoSpaceLeft();
        return offset + size;
    }

    @Override
    public T decode(byte[] array, int offset, int length) throws InvalidProtocolBufferException {
        return parser.parseFrom(array, offset, length);
    }

    /** @return this codec: it keeps no state */
    @Override
    public ProtobufCodec<T> forHelper() {
        return this;
    }

    @Override
    public T decode(ByteBuf frame) throws InvalidProtocolBufferException {
        int length = frame.readableBytes();
        T value = frame.hasArray()
                ? parser.parseFrom(frame.array(), frame.arrayOffset() + frame.readerIndex(), length)
                : parser.parseFrom(frame.nioBuffer(frame.readerIndex(), length));
        frame.skipBytes(length);
        return value;
    }
}
