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
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.BufferOverflowStrategy;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/**
 * The helper's stderr, read whenever there is something to read: a helper that floods stderr while only
 * its stdout is consumed must never block on it. Lines go to every subscriber, each with a bounded buffer of its
 * own (a subscriber too slow to keep up loses the lines that do not fit, never the helper its progress, nor the
 * other subscribers theirs), to SLF4J at debug, and to a ring of the last lines that {@link io.umhflux.ExitStatus}
 * reports. A line ends at {@code \n} or {@code \r\n}; one longer than the maximum is cut into pieces of at most
 * the maximum, never inside a UTF-8 character.
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
    /**
     * Holds up to {@value #LINE_BUFFER} lines until the first subscriber comes, so that one subscribing right after
     * the spawn misses none; each subscriber then takes every line at once into a buffer of its own.
     */
    private final Sinks.Many<String> lines = Sinks.many().multicast().onBackpressureBuffer(LINE_BUFFER, false);
    private final ArrayDeque<String> tail;
    /** Lines that did not fit a slow subscriber's buffer, over all subscribers. */
    private final AtomicLong dropped = new AtomicLong();

    // event loop only
    private final ByteBuf partial;
    private @Nullable IoRegistration registration;
    private boolean eof;
    /** The last piece was cut at the maximum length: a {@code \n} right after it ends no further line. */
    private boolean cut;

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
        this.tail = new ArrayDeque<>(Math.min(Math.max(1, tailLines), 32)); // grows as lines come
        this.partial = alloc.heapBuffer(Math.min(maxLineLength, 1024), maxLineLength);
    }

    /** Registers the descriptor on the loop; call once. */
    public void register() {
        Loops.register(loop, this, r -> {
            registration = r;
            r.submit(EpollIoOps.EPOLLIN.with(EpollIoOps.EPOLLET));
        });
    }

    /**
     * The lines as they come (the first subscriber also those written before it came, up to {@value #LINE_BUFFER});
     * completes at end of file. Any number of subscribers, each with a buffer of {@value #LINE_BUFFER} lines: what
     * does not fit is dropped for that subscriber alone.
     */
    public Flux<String> lines() {
        return lines.asFlux().onBackpressureBuffer(LINE_BUFFER, line -> dropped.incrementAndGet(),
                BufferOverflowStrategy.DROP_LATEST);
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
            if (take > 0) {
                partial.writeBytes(in, take);
                cut = false;
            }
            if (nl >= 0 && in.readerIndex() == nl) {
                in.skipBytes(1);
                if (cut && !partial.isReadable()) {
                    cut = false; // the line was exactly the maximum long: its end, not an empty line
                    continue;
                }
                int length = partial.readableBytes();
                if (length > 0 && partial.getByte(partial.readerIndex() + length - 1) == '\r') {
                    partial.writerIndex(partial.writerIndex() - 1); // a "\r\n" line end
                }
                emit(partial.readableBytes());
            } else if (partial.readableBytes() == maxLineLength) {
                emit(characterEnd()); // an over-long line is cut into pieces of the maximum length
                cut = true;
            }
        }
    }

    /**
     * Where the full line buffer may be cut: before a UTF-8 character whose last bytes have not come yet (they begin
     * the next piece), else at its end.
     */
    private int characterEnd() {
        int length = partial.readableBytes();
        int base = partial.readerIndex();
        int start = length - 1;
        while (start > 0 && length - start < 4 && (partial.getByte(base + start) & 0xC0) == 0x80) {
            start--; // back over continuation bytes to the character's first byte
        }
        int first = partial.getByte(base + start) & 0xFF;
        int bytes = first >= 0xF0 ? 4 : first >= 0xE0 ? 3 : first >= 0xC0 ? 2 : 1;
        return start > 0 && start + bytes > length ? start : length;
    }

    /** Emits the first {@code length} bytes of the line buffer as a line; the rest starts the next one. */
    private void emit(int length) {
        String line = partial.toString(partial.readerIndex(), length, StandardCharsets.UTF_8);
        partial.skipBytes(length);
        partial.discardReadBytes();
        publish(line);
    }

    private void publish(String line) {
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
            dropped.incrementAndGet(); // more lines than the buffer holds before the first subscriber
        }
    }

    /** End of file, a read error or shutdown: flush the last partial line, complete, close; idempotent. */
    public void finish() {
        if (eof) {
            return;
        }
        eof = true;
        if (partial.isReadable()) {
            emit(partial.readableBytes());
        }
        partial.release();
        if (dropped.get() > 0) {
            LOG.debug("{}: {} stderr lines dropped for slow subscribers", label, dropped.get());
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
