package io.umhflux.codec;

import java.util.Locale;

/**
 * Where one message ends and the next begins on a byte stream. Every framing has a maximum, checked before
 * anything is allocated for a frame: a corrupted or hostile length prefix fails the helper instead of the
 * JVM.
 *
 * <ul>
 *   <li>{@link #lengthPrefixed(int)}: a 4-byte big-endian length, then that many bytes
 *       ({@code struct.pack(">I", n)} in Python, {@code htonl} in C);
 *   <li>{@link #varintPrefixed(int)}: an unsigned LEB128 length (protobuf's varint), then the bytes;
 *   <li>{@link #lines(int)}: bytes up to {@code '\n'} (a {@code "\r\n"} ending is accepted too);
 *   <li>{@link #raw()}: no framing, whatever one read returns is one message.
 * </ul>
 */
public final class Framing {
    /** The kinds of framing. */
    public enum Kind {
        LENGTH_PREFIXED, VARINT_PREFIXED, LINES, RAW
    }

    private final Kind kind;
    private final int maxFrameBytes;

    private Framing(Kind kind, int maxFrameBytes) {
        this.kind = kind;
        this.maxFrameBytes = maxFrameBytes;
    }

    /** @param maxFrameBytes the longest payload accepted or sent, not counting the 4-byte prefix */
    public static Framing lengthPrefixed(int maxFrameBytes) {
        return new Framing(Kind.LENGTH_PREFIXED, checkMax(maxFrameBytes));
    }

    /** @param maxFrameBytes the longest payload accepted or sent, not counting the prefix */
    public static Framing varintPrefixed(int maxFrameBytes) {
        return new Framing(Kind.VARINT_PREFIXED, checkMax(maxFrameBytes));
    }

    /** @param maxLineBytes the longest line accepted or sent, not counting the line end */
    public static Framing lines(int maxLineBytes) {
        return new Framing(Kind.LINES, checkMax(maxLineBytes));
    }

    /** No framing: each read from the pipe (at most the spec's read size) is one message. */
    public static Framing raw() {
        return new Framing(Kind.RAW, Integer.MAX_VALUE);
    }

    private static int checkMax(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("maximum frame size must be positive: " + max);
        }
        return max;
    }

    /** @return the kind */
    public Kind kind() {
        return kind;
    }

    /** @return the maximum payload in bytes */
    public int maxFrameBytes() {
        return maxFrameBytes;
    }

    @Override
    public String toString() {
        return kind.name().toLowerCase(Locale.ROOT) + (kind == Kind.RAW ? "" : " (max " + maxFrameBytes + " bytes)");
    }
}
