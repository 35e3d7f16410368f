package io.umhflux.internal.pipe;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoEvent;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.umhflux.internal.loop.Loops;
import io.umhflux.internal.os.Os;
import java.io.IOException;
import org.jspecify.annotations.Nullable;

/**
 * The reads from a helper's stdout and the cumulation they go into, as Netty's cumulators divide it from the
 * decoding: each read goes behind what is left of a partial frame, into the same buffer where it is ours alone, so
 * that frames straddling reads are not copied again and again. A decoder that walks arrays gets a heap cumulation,
 * read into in place (its array pinned for the {@code read(2)}); any other a native one. The descriptor is
 * registered edge-triggered ({@code EPOLLIN | EPOLLET}): readiness is remembered here ({@link #readReady}) until a
 * read finds the pipe empty. Event loop only, but for the volatile flags.
 */
final class StdoutReader implements EpollIoHandle {
    /** A {@link #read} that found the descriptor closed (by a failure or shutdown on this loop). */
    static final int CLOSED = -2;
    /** A {@link #read} that reached end of file. */
    static final int EOF = -1;
    /** EPOLLHUP, as {@code <sys/epoll.h>} has it (Netty names no constant for it). */
    private static final int EPOLLHUP = 0x010;

    private final IoEventLoop loop;
    private final FileDescriptor fd;
    private final FrameDecoder<?> decoder;
    private final ByteBufAllocator alloc;
    private final int readSize;
    /** Called on an {@code EPOLLIN} edge. */
    private final Runnable onReadable;
    /** Called when the loop shuts down with the descriptor still registered. */
    private final Runnable onLoopClosed;
    private @Nullable IoRegistration registration;
    private @Nullable ByteBuf cumulation;
    /** The writer closed its end: read on until end of file. */
    private boolean hangup;
    // read by the owner from its own loop, which may be another one
    private volatile boolean readReady = true;

    StdoutReader(IoEventLoop loop, FileDescriptor fd, FrameDecoder<?> decoder, ByteBufAllocator alloc, int readSize,
            Runnable onReadable, Runnable onLoopClosed) {
        this.loop = loop;
        this.fd = fd;
        this.decoder = decoder;
        this.alloc = alloc;
        this.readSize = readSize;
        this.onReadable = onReadable;
        this.onLoopClosed = onLoopClosed;
    }

    /** Registers the descriptor on the loop; call once, on any thread. */
    void register() {
        Loops.register(loop, this, r -> {
            registration = r;
            r.submit(EpollIoOps.EPOLLIN.with(EpollIoOps.EPOLLET));
        });
    }

    /** Whether a read may find bytes: not since a read found the pipe empty without an edge after it. */
    boolean readReady() {
        return readReady;
    }

    /** Whether the writer closed its end (no edge follows that, only end of file). */
    boolean hangup() {
        return hangup;
    }

    /** What was read and not yet decoded, or null. */
    @Nullable ByteBuf cumulation() {
        return cumulation;
    }

    /**
     * Reads once (at most the read size) behind what is left in the cumulation.
     *
     * @return the bytes read; 0 when the pipe was empty ({@code EAGAIN}); {@link #EOF}; or {@link #CLOSED}
     */
    int read() throws IOException {
        if (!fd.isOpen()) {
            return CLOSED; // never read a descriptor number that may be reused
        }
        boolean heap = decoder.heapCumulation();
        ByteBuf c = cumulation;
        if (c != null && c.isDirect() == heap) {
            // the decoder changed its mind (its frames grew or shrank): move what is left, a partial frame, once
            int left = c.readableBytes();
            ByteBuf moved = heap ? alloc.heapBuffer(left + readSize) : alloc.directBuffer(left + readSize);
            moved.writeBytes(c, c.readerIndex(), left);
            c.release();
            cumulation = moved;
            c = moved;
        }
        if (heap) {
            return Os.PINS_ARRAYS ? readIntoHeap() : readIntoHeapThroughNative();
        }
        // read behind the partial frame, into the same buffer, rather than into a new one that a cumulator would
        // then copy (every read, when frames straddle reads as they usually do); only into a native buffer of ours
        // alone (a codec may hold retained slices of it; read(2) needs an address)
        boolean intoTail = c != null && c.isDirect() && reusable(c);
        ByteBuf buf;
        if (intoTail) {
            if (c.capacity() - c.writerIndex() < readSize) {
                c.discardReadBytes(); // moves the partial frame (small, or one big frame's head) to the front
                c.ensureWritable(readSize); // grows when one frame is bigger than the buffer, doubling
            }
            buf = c;
        } else {
            buf = alloc.directBuffer(readSize);
        }
        int want = Math.min(readSize, buf.capacity() - buf.writerIndex());
        int n;
        try {
            n = PipeReads.read(fd, buf, want);
        } catch (IOException e) {
            if (!intoTail) {
                buf.release();
            }
            throw e;
        }
        if (n > 0 && !intoTail) {
            cumulation = c == null ? buf : ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(alloc, c, buf);
        } else if (!intoTail) {
            buf.release();
        }
        return afterRead(n, want);
    }

    /** Straight into the heap cumulation's array, pinned for the {@code read(2)}: no native buffer, no copy. */
    private int readIntoHeap() throws IOException {
        ByteBuf c = cumulationFor(readSize);
        int n = PipeReads.readIntoArray(fd, c, readSize);
        if (n <= 0 && !c.isReadable()) {
            releaseCumulation(); // nothing came and nothing waits: hold no buffer while idle
        }
        return afterRead(n, readSize);
    }

    /** {@link #readIntoHeap} where pinning would copy: into a native buffer, then appended to the cumulation. */
    private int readIntoHeapThroughNative() throws IOException {
        ByteBuf buf = alloc.directBuffer(readSize);
        try {
            int n = PipeReads.read(fd, buf, readSize);
            if (n > 0) {
                cumulationFor(n).writeBytes(buf, buf.readerIndex(), n);
            }
            return afterRead(n, readSize);
        } finally {
            buf.release();
        }
    }

    /**
     * The heap cumulation with room for {@code n} more bytes: a new one just as big; else the one there if it has
     * room; else the same one with the partial frame left moved to its front, if it is ours alone, growing when
     * one frame is bigger than it; else a new one with what is left copied in.
     */
    private ByteBuf cumulationFor(int n) {
        ByteBuf c = cumulation;
        if (c == null) {
            c = alloc.heapBuffer(n);
            cumulation = c;
            return c;
        }
        if (c.writableBytes() >= n) {
            return c;
        }
        int readable = c.readableBytes();
        if (reusable(c)) {
            c.discardReadBytes();
            c.ensureWritable(n);
            return c;
        }
        ByteBuf fresh = alloc.heapBuffer(readable + n);
        fresh.writeBytes(c, c.readerIndex(), readable);
        c.release();
        cumulation = fresh;
        return fresh;
    }

    /**
     * Whether more may be read into {@code c} behind what is left in it: it is ours alone (a codec may hold
     * retained slices of it) and not one that grew for a big frame while what is left is small (that one is let go).
     */
    private boolean reusable(ByteBuf c) {
        return c.refCnt() == 1 && !c.isReadOnly() && (c.capacity() <= 2 * readSize || c.readableBytes() >= readSize);
    }

    /** What a read of {@code n} bytes out of {@code want} says: as {@link #read} returns it. */
    private int afterRead(int n, int want) {
        if (n > 0) {
            if (n < want && !hangup) {
                // a short read emptied the pipe: the next write into it, or the writer's close, is an edge
                // again, so the read that would only say EAGAIN is saved (one system call per message in a
                // ping-pong). Not after a hang-up was reported: no edge follows that, only end of file. (A read
                // of exactly what the pipe holds would empty it too, but the helper may resize its pipe.)
                readReady = false;
            }
            return n;
        }
        if (n == 0) {
            readReady = false; // EAGAIN: the next EPOLLIN edge sets it again
            return 0;
        }
        return EOF;
    }

    /** Whether stdout holds no byte ({@code FIONREAD}); false when that cannot be told (then a read tells). */
    boolean pipeEmpty() {
        if (!fd.isOpen()) {
            return false;
        }
        int[] n = new int[1];
        return Os.libc().ioctl(fd.intValue(), Os.FIONREAD, n) == 0 && n[0] == 0;
    }

    void releaseCumulation() {
        ByteBuf c = cumulation;
        cumulation = null;
        if (c != null) {
            c.release();
        }
    }

    /** Unregisters and closes the descriptor; its close error, or null. */
    @Nullable IOException closeFd() {
        return Loops.closeRegistered(registration, fd);
    }

    @Override
    public FileDescriptor fd() {
        return fd;
    }

    @Override
    public void handle(IoRegistration r, IoEvent event) {
        if ((((EpollIoEvent) event).ops().value() & EPOLLHUP) != 0) {
            hangup = true;
        }
        readReady = true;
        onReadable.run();
    }

    /**
     * The loop shuts down (or refused the registration): nothing more will be read. On the loop, or after it
     * terminated (never concurrently with a drain still queued on it).
     */
    @Override
    public void close() {
        onLoopClosed.run();
    }
}
