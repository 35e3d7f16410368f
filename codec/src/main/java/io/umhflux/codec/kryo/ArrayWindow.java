package io.umhflux.codec.kryo;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.KryoBufferOverflowException;
import com.esotericsoftware.kryo.io.Output;
import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * Kryo writing straight into an array range (the writer's batch), between a start and a limit: no
 * per-message {@code Output} and copy. When a message outgrows that room, what was written moves to an array of
 * the window's own and the message goes on there, to be appended by the caller: one pass, so a Kryo that keeps
 * state across messages (class names or references without auto reset) sees each message written exactly once.
 */
final class ArrayWindow extends Output {
    /** The most bytes a message may take when nothing smaller is asked: an array's (2 GiB). */
    static final int MOST = Integer.MAX_VALUE - 8;
    private static final int KEEP_SPILL = 64 * 1024;
    private static final byte[] NO_BYTES = new byte[0];
    private byte[] spill = NO_BYTES;
    private boolean spilled;
    private int start;
    /** The most bytes this message may take. */
    private int most;
    /** This message went past {@link #most}: however a serializer wrapped the throw, it is -2. */
    private boolean overMost;
    /** How many bytes of {@link #spill} the last message that outgrew its room took. */
    private int spilledLength;

    /**
     * Writes {@code value} into {@code array} from {@code start}, no further than {@code limit}, and returns the
     * index past it; or -1 when it did not fit: it is then whole in the spill, for {@link #appendSpill}; or -2
     * as soon as it takes more than {@code most} bytes, with no more than that written or kept. Bytes past the
     * returned index (or any, after -1, -2 or a throw) may have been written but mean nothing.
     */
    int write(Kryo kryo, Object value, byte[] array, int start, int limit, int most) {
        if (buffer != array) {
            buffer = array; // the same batch array message after message: stored once (releaseArrays)
        }
        this.start = start;
        this.most = Math.min(Math.max(most, 0), MOST);
        position = start;
        capacity = (int) Math.min(limit, (long) start + this.most);
        maxCapacity = capacity;
        spilled = false;
        overMost = false;
        boolean written = false;
        try {
            kryo.writeClassAndObject(this, value);
            written = true;
            if (spilled) {
                spilledLength = position;
                return -1;
            }
            return position;
        } catch (RuntimeException e) {
            if (overMost) {
                return -2;
            }
            throw e;
        } finally {
            if (!written) {
                dropSpill();
            }
        }
    }

    /** Lets go of the caller's array (or the spill) it was last bound to. */
    void release() {
        buffer = null;
    }

    /** Appends the message that outgrew its room to {@code out}. */
    void appendSpill(ByteBuf out) {
        try {
            out.writeBytes(spill, 0, spilledLength);
        } finally {
            dropSpill();
        }
    }

    void dropSpill() {
        spilledLength = 0;
        if (buffer == spill) {
            buffer = null; // the window was left on the spill: the message's bytes are appended or dropped
        }
        if (spill.length > KEEP_SPILL) {
            spill = NO_BYTES; // a rare big message does not pin its size for the helper's life
        }
    }

    @Override
    protected boolean require(int required) {
        if (capacity - position >= required) {
            return false;
        }
        int written = spilled ? position : position - start;
        long needed = (long) written + required;
        if (needed > most) {
            overMost = true;
            throw new KryoBufferOverflowException("the message takes more than " + most + " bytes");
        }
        long wanted = Math.min(most, Math.max(Math.max(256L, needed), 2L * written));
        if (spilled) {
            if (spill.length < wanted) {
                spill = Arrays.copyOf(spill, (int) wanted); // keeps what was written
            }
        } else {
            if (spill.length < wanted) {
                spill = new byte[(int) wanted];
            }
            System.arraycopy(buffer, start, spill, 0, written);
            spilled = true;
        }
        buffer = spill;
        position = written;
        capacity = Math.min(spill.length, most); // a spill kept from a bigger message does not lift the bound
        maxCapacity = capacity;
        return true; // the buffer changed: Kryo's loops take it again
    }
}
