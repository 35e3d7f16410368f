package io.umhflux.internal.pipe;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;
import io.umhflux.internal.loop.Loops;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/**
 * The helper's stderr, read whenever there is something to read: a helper that floods stderr while only
 * its stdout is consumed must never block on it. Lines go to a bounded multicast sink (a subscriber too
 * slow to keep up loses lines, never the helper its progress), to SLF4J at debug, and to a ring of the last
 * lines that {@link io.umhflux.ExitStatus} reports.
 *
 * <p>All methods but {@link #lines()} and {@link #tail()} run on the event loop.
 */
public final class StderrPipe implements EpollIoHandle {
    private static final Logger LOG = LoggerFactory.getLogger("io.umhflux.stderr");
    private static final int READ_SIZE = 8192;
    private static final int MAX_READS_PER_TURN = 16;
    private static final int LINE_BUFFER = 256;

    private final IoEventLoop loop;
    private final FileDescriptor fd;
    private final ByteBufAllocator alloc;
    private final String label;
    private final int tailLines;
    private final int maxLineLength;
    private final Runnable onEof;
    private final Sinks.Many<String> lines = Sinks.many().multicast().onBackpressureBuffer(LINE_BUFFER, false);
    private final ArrayDeque<String> tail;

    // event loop only
    private final ByteBuf partial;
    private @Nullable IoRegistration registration;
    private boolean eof;
    private long dropped;

    /**
     * @param label like {@code "cat (pid 123)"}, for the log
     * @param onEof called on the loop at end of file
     */
    public StderrPipe(IoEventLoop loop, FileDescriptor fd, ByteBufAllocator alloc, String label, int tailLines,
            int maxLineLength, Runnable onEof) {
        this.loop = loop;
        this.fd = fd;
        this.alloc = alloc;
        this.label = label;
        this.tailLines = tailLines;
        this.maxLineLength = maxLineLength;
        this.onEof = onEof;
        this.tail = new ArrayDeque<>(Math.max(1, tailLines));
        this.partial = alloc.heapBuffer(Math.min(maxLineLength, 1024), maxLineLength);
    }

    /** Registers the descriptor on the loop; call once. */
    public void register() {
        Loops.register(loop, this, r -> {
            registration = r;
            r.submit(EpollIoOps.EPOLLIN.with(EpollIoOps.EPOLLET));
        });
    }

    /** The lines, as they come; completes at end of file. Any number of subscribers. */
    public Flux<String> lines() {
        return lines.asFlux();
    }

    /** The last lines, oldest first. Thread-safe. */
    public List<String> tail() {
        synchronized (tail) {
            return List.copyOf(tail);
        }
    }

    public boolean isEof() {
        return eof;
    }

    @Override
    public FileDescriptor fd() {
        return fd;
    }

    @Override
    public void handle(IoRegistration registration, IoEvent event) {
        readAvailable();
    }

    private void readAvailable() {
        if (eof || !fd.isOpen()) {
            return;
        }
        ByteBuf buf = alloc.directBuffer(READ_SIZE);
        try {
            for (int i = 0; i < MAX_READS_PER_TURN; i++) {
                buf.clear();
                int n = PipeReads.read(fd, buf);
                if (n == 0) {
                    return; // EAGAIN: the next EPOLLIN edge brings us back
                }
                if (n < 0) {
                    finish();
                    return;
                }
                split(buf);
            }
            Loops.submit(loop, this::readAvailable); // more may wait: yield to the other helpers first
        } catch (IOException e) {
            LOG.warn("{}: reading stderr failed", label, e);
            finish();
        } finally {
            buf.release();
        }
    }

    private void split(ByteBuf in) {
        while (in.isReadable()) {
            int nl = in.indexOf(in.readerIndex(), in.writerIndex(), (byte) '\n');
            int end = nl < 0 ? in.writerIndex() : nl;
            int room = maxLineLength - partial.readableBytes();
            int take = Math.min(end - in.readerIndex(), room);
            partial.writeBytes(in, take);
            if (nl >= 0 && in.readerIndex() == nl) {
                in.skipBytes(1);
                emitPartial();
            } else if (partial.readableBytes() == maxLineLength) {
                emitPartial(); // an over-long line is cut into pieces of the maximum length
            }
        }
    }

    private void emitPartial() {
        String line = partial.toString(StandardCharsets.UTF_8);
        partial.clear();
        LOG.debug("{}: {}", label, line);
        if (tailLines > 0) {
            synchronized (tail) {
                if (tail.size() == tailLines) {
                    tail.removeFirst();
                }
                tail.addLast(line);
            }
        }
        Sinks.EmitResult r = lines.tryEmitNext(line);
        if (r.isFailure() && r != Sinks.EmitResult.FAIL_ZERO_SUBSCRIBER) {
            dropped++;
        }
    }

    /** End of file, a read error or shutdown: flush the last partial line, complete, close; idempotent. */
    public void finish() {
        if (eof) {
            return;
        }
        eof = true;
        if (partial.isReadable()) {
            emitPartial();
        }
        partial.release();
        if (dropped > 0) {
            LOG.debug("{}: {} stderr lines dropped for slow subscribers", label, dropped);
        }
        lines.tryEmitComplete();
        IOException e = Loops.closeRegistered(registration, fd);
        if (e != null) {
            LOG.warn("{}: closing stderr failed", label, e);
        }
        onEof.run();
    }

    @Override
    public void close() {
        finish();
    }
}
