package io.umhflux.internal.os;

/**
 * A block of native memory from {@link LibC#allocate}, for the structures the C calls fill in or read (spawn
 * attributes and file actions, signal sets, {@code siginfo_t}); freed once unreachable. Offsets are in bytes.
 */
public interface NativeMemory {
    void putByte(long offset, byte value);

    void putInt(long offset, int value);

    void putLong(long offset, long value);

    int getInt(long offset);
}
