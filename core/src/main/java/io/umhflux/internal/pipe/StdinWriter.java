package io.umhflux.internal.pipe;

import io.netty.buffer.ByteBuf;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.Errors;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.IovArray;
import io.umhflux.internal.os.Os;
import io.umhflux.internal.loop.Loops;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

/**
 * The buffers waiting to be written to a helper's stdin, and the system calls that write them, as Netty's
 * {@code ChannelOutboundBuffer} and epoll {@code doWrite} divide it: a heap batch is written with one
 * {@code write(2)} from its array, pinned for the call (no native copy); native buffers go many at once to a
 * {@code writev}. Each buffer added here is owned here: released once written, or by {@link #release}. The
 * descriptor is registered edge-triggered for {@code EPOLLOUT}: after {@code EAGAIN} nothing is written until the
 * edge says the helper read some. Event loop only.
 */
final class StdinWriter implements EpollIoHandle {
    /** Room for 1024 iovecs, the usual {@code IOV_MAX}. */
    private static final int IOVECS = 1024;

    private final IoEventLoop loop;
    private final FileDescriptor fd;
    /** Called on an {@code EPOLLOUT} edge: the pipe has room again. */
    private final Runnable onWritable;
    /** Called when the loop shuts down with the descriptor still registered. */
    private final Runnable onLoopClosed;
    /** The most one {@code write} or {@code writev} takes (no limit: {@code Long.MAX_VALUE}). */
    private final long writeSize;
    private final ArrayDeque<ByteBuf> queue = new ArrayDeque<>();
    /** Only a helper sent native buffers needs one. */
    private @Nullable IovArray iov;
    private @Nullable IoRegistration registration;
    /** False from {@code EAGAIN} until the next {@code EPOLLOUT} edge. */
    private boolean writable = true;

    StdinWriter(IoEventLoop loop, FileDescriptor fd, int writeSize, Runnable onWritable, Runnable onLoopClosed) {
        this.loop = loop;
        this.fd = fd;
        this.writeSize = writeSize > 0 ? writeSize : Long.MAX_VALUE;
        this.onWritable = onWritable;
        this.onLoopClosed = onLoopClosed;
    }

    /** Registers the descriptor on the loop; call once. */
    void register() {
        Loops.register(loop, this, r -> {
            registration = r;
            r.submit(EpollIoOps.EPOLLOUT.with(EpollIoOps.EPOLLET));
        });
    }

    /** False once closed (by a stop on this loop): never write to a descriptor number that may be reused. */
    boolean isOpen() {
        return fd.isOpen();
    }

    /** Whether a write may go now: not since {@code EAGAIN} without an {@code EPOLLOUT} edge after it. */
    boolean writable() {
        return writable;
    }

    /** Queues a readable buffer; owned here from now on. */
    void add(ByteBuf buf) {
        queue.add(buf);
    }

    boolean isEmpty() {
        return queue.isEmpty();
    }

    /**
     * Writes from the head of the queue once: one {@code write} of a heap batch, or one {@code writev} of the native
     * buffers at the head, each at most the write size; releases what was written whole.
     *
     * @return the bytes written; 0 when the pipe is full ({@code EAGAIN}; the queue holds no empty buffer, so 0 bytes
     *     means a full pipe); -1 when the head buffer can be written neither way (neither heap nor iovec-able)
     * @throws IOException as Netty's native writes report them ({@code EPIPE} included)
     */
    long writeOnce() throws IOException {
        long written;
        ByteBuf first = queue.peekFirst();
        if (!first.isDirect() && first.hasArray()) {
            written = writeArray(fd, first, (int) Math.min(first.readableBytes(), writeSize));
        } else {
            IovArray v = iov;
            if (v == null) {
                v = new IovArray(IOVECS);
                iov = v;
            }
            v.clear();
            long room = writeSize;
            for (ByteBuf b : queue) {
                int take = (int) Math.min(b.readableBytes(), room);
                if (take == 0 || !b.isDirect() || !v.add(b, b.readerIndex(), take)) {
                    break; // a heap buffer waits for its own write, after these
                }
                room -= take;
            }
            if (v.count() == 0) {
                return -1;
            }
            written = fd.writevAddresses(v.memoryAddress(0), v.count());
        }
        if (written == 0) {
            writable = false;
            return 0;
        }
        for (long left = written; left > 0;) {
            ByteBuf head = queue.peekFirst();
            int readable = head.readableBytes();
            if (left >= readable) {
                left -= readable;
                queue.pollFirst().release();
            } else {
                head.skipBytes((int) left);
                left = 0;
            }
        }
        return written;
    }

    /** The buffer at the head of the queue, for an error message. */
    @Nullable ByteBuf head() {
        return queue.peekFirst();
    }

    /**
     * One {@code write(2)} of {@code take} bytes from a heap buffer's array, pinned for the call (no native copy);
     * 0 on {@code EAGAIN}; other errors as Netty's native writes report them ({@code EPIPE} included).
     */
    private static long writeArray(FileDescriptor fd, ByteBuf heap, int take) throws IOException {
        ByteBuffer source = heap.nioBuffer(heap.readerIndex(), take);
        while (true) {
            long n = Os.libc().write(fd.intValue(), source, take);
            if (n >= 0) {
                return n;
            }
            int err = Os.errno();
            if (err != Os.EINTR) {
                return Errors.ioResult("write", -err);
            }
        }
    }

    /** Releases every queued buffer and the iovec array; the writer stays usable (and empty). */
    void release() {
        for (ByteBuf b; (b = queue.pollFirst()) != null;) {
            b.release();
        }
        IovArray v = iov;
        iov = null;
        if (v != null) {
            v.release();
        }
    }

    /** Unregisters and closes the descriptor (the helper sees EOF); idempotent. */
    void closeFd() {
        IOException e = Loops.closeRegistered(registration, fd);
        if (e != null) {
            // the descriptor was ours alone; nothing waits on a close error of a pipe's write end
            Operators.onErrorDropped(e, Context.empty());
        }
    }

    @Override
    public FileDescriptor fd() {
        return fd;
    }

    @Override
    public void handle(IoRegistration r, IoEvent event) {
        writable = true;
        onWritable.run();
    }

    @Override
    public void close() {
        onLoopClosed.run();
    }
}
