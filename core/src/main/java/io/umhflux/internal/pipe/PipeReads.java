package io.umhflux.internal.pipe;

import io.netty.buffer.ByteBuf;
import io.netty.channel.unix.Errors;
import io.netty.channel.unix.FileDescriptor;
import io.umhflux.internal.os.Os;
import java.io.IOException;
import java.nio.ByteBuffer;

/** One non-blocking {@code read(2)} from a pipe into a Netty buffer, shared by the stdout and stderr readers. */
final class PipeReads {
    private PipeReads() {
    }

    /**
     * Reads into the writable bytes of {@code buf}, moving its writer index.
     *
     * @return the bytes read, 0 when the pipe is empty (EAGAIN), -1 at end of file
     * @throws IOException for any other error (EINTR is retried by Netty's native read)
     */
    static int read(FileDescriptor fd, ByteBuf buf) throws IOException {
        return read(fd, buf, buf.capacity() - buf.writerIndex());
    }

    /** As {@link #read(FileDescriptor, ByteBuf)}, taking at most {@code max} bytes. */
    static int read(FileDescriptor fd, ByteBuf buf, int max) throws IOException {
        int from = buf.writerIndex();
        int to = from + Math.min(max, buf.capacity() - from);
        int n;
        if (buf.hasMemoryAddress()) {
            n = fd.readAddress(buf.memoryAddress(), from, to);
        } else {
            ByteBuffer nio = buf.internalNioBuffer(from, to - from);
            n = fd.read(nio, nio.position(), nio.limit());
        }
        if (n > 0) {
            buf.writerIndex(from + n);
        }
        return n;
    }

    /**
     * As {@link #read(FileDescriptor, ByteBuf, int)} into a heap buffer: {@code read(2)} straight into its array,
     * pinned for the call, with no native buffer to read into and copy from.
     */
    static int readIntoArray(FileDescriptor fd, ByteBuf heap, int max) throws IOException {
        int from = heap.writerIndex();
        int want = Math.min(max, heap.capacity() - from);
        if (want <= 0) {
            throw new IllegalArgumentException("no room to read into " + heap); // read(2) of 0 would look like EOF
        }
        ByteBuffer target = heap.nioBuffer(from, want);
        while (true) {
            long n = Os.libc().read(fd.intValue(), target, want);
            if (n > 0) {
                heap.writerIndex(from + (int) n);
                return (int) n;
            }
            if (n == 0) {
                return -1;
            }
            int err = Os.errno();
            if (err != Os.EINTR) {
                return Errors.ioResult("read", -err); // 0 for EAGAIN, else thrown
            }
        }
    }
}
