package io.umhflux.internal.pipe;

import org.reactivestreams.Subscription;

/**
 * How many messages a send may ask its publisher for: what was taken and is not yet written, plus what was asked
 * for and has not come yet (counted at the mean message size), stays under the high-water mark. The mean is learnt
 * from what each request brought, folded in once per request rather than once per message. Event loop only.
 */
final class OutboundDemand {
    /** The most messages asked for at once; small messages are then encoded a thousand to a write. */
    static final int MAX_REQUEST = 1024;
    /**
     * The most messages asked of a feeding sink at once: its producer threads run beside the loop, and each request is
     * a hand-over between threads (often a parked producer woken), so fewer, larger ones cost less; the high-water mark
     * bounds them as it bounds any request (at the default 256 KiB, small messages stop there first).
     */
    private static final int MAX_SINK_REQUEST = 16 * 1024;

    private final long highWaterMark;
    /** Bytes taken (encoded or queued) and not yet written. */
    private long queuedBytes;
    /** Messages asked for that have not come yet. */
    private long outstanding;
    private long accepted;
    private long averageSize = 1024;
    private long lastSize;
    /** Bytes and messages taken since the last request, for {@link #averageSize}. */
    private long bytesSinceRequest;
    private long acceptedAtRequest;
    /** Inside {@code Subscription.request}: what arrives meanwhile is written by the flush that asked. */
    private boolean inRequest;

    OutboundDemand(long highWaterMark) {
        this.highWaterMark = highWaterMark;
    }

    /** A message came from the publisher (requested, polled or from a sink). */
    void arrived(boolean requested) {
        accepted++;
        if (requested) {
            outstanding--;
        }
    }

    /** A message was encoded or queued as {@code size} bytes. */
    void taken(int size) {
        queuedBytes += size;
        lastSize = size;
        bytesSinceRequest += size;
    }

    void written(long bytes) {
        queuedBytes -= bytes;
    }

    /** Nothing is queued any more (the send ended and its buffers were released). */
    void cleared() {
        queuedBytes = 0;
    }

    long queuedBytes() {
        return queuedBytes;
    }

    boolean underMark() {
        return queuedBytes < highWaterMark;
    }

    /** Messages taken so far, to tell whether a request was answered synchronously. */
    long accepted() {
        return accepted;
    }

    /** Asks {@code upstream} for as many messages as {@link #toRequest} allows, if any. */
    void request(Subscription upstream, boolean sink) {
        long n = toRequest(sink);
        if (n == 0) {
            return;
        }
        inRequest = true;
        try {
            upstream.request(n);
        } finally {
            inRequest = false;
        }
    }

    /** Whether a message arrives from within {@link #request} (a publisher that answers synchronously). */
    boolean inRequest() {
        return inRequest;
    }

    /**
     * How many messages to ask for now, counted as outstanding; 0 for none. A feeding sink is asked again while up
     * to half of what it was asked for is still owed, so that its producers go on while the loop writes (a producer
     * that finds no demand waits for the loop: a hand-over between threads). Asked only after the writes: asking as
     * messages are taken would let producers fill the whole mark before one byte is written.
     */
    private long toRequest(boolean sink) {
        int most = sink ? MAX_SINK_REQUEST : MAX_REQUEST;
        long ahead = sink ? most / 2 : 0;
        if (outstanding > ahead || queuedBytes >= highWaterMark) {
            return 0;
        }
        long n;
        long arrivedSince = accepted - acceptedAtRequest;
        if (arrivedSince > 0) {
            long mean = bytesSinceRequest / arrivedSince;
            averageSize = acceptedAtRequest == 0 ? mean : (averageSize + mean) / 2;
        }
        if (accepted == 0) {
            if (outstanding > 0) {
                return 0;
            }
            n = 1; // learn the size of a message before asking for many
        } else {
            long size = Math.max(1, Math.max(averageSize, lastSize));
            // what was asked for and has not come yet counts against the mark as if it were queued
            long room = highWaterMark - queuedBytes - outstanding * size;
            n = Math.min(most - outstanding, room / size);
            if (n <= 0) {
                if (outstanding > 0) {
                    return 0;
                }
                n = 1; // a message larger than the room left: one at a time, never none
            }
        }
        acceptedAtRequest = accepted;
        bytesSinceRequest = 0;
        outstanding += n;
        return n;
    }
}
