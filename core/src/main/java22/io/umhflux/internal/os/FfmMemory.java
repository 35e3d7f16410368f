package io.umhflux.internal.os;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** FFM memory behind a {@link NativeMemory}, for {@link FfmLayer}. */
record FfmMemory(MemorySegment segment) implements NativeMemory {
    @Override
    public void putByte(long offset, byte value) {
        segment.set(ValueLayout.JAVA_BYTE, offset, value);
    }

    @Override
    public void putInt(long offset, int value) {
        segment.set(ValueLayout.JAVA_INT_UNALIGNED, offset, value);
    }

    @Override
    public void putLong(long offset, long value) {
        segment.set(ValueLayout.JAVA_LONG_UNALIGNED, offset, value);
    }

    @Override
    public int getInt(long offset) {
        return segment.get(ValueLayout.JAVA_INT_UNALIGNED, offset);
    }
}
