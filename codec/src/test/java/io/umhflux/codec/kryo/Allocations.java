package io.umhflux.codec.kryo;

import java.lang.management.ManagementFactory;

/** What the tests' own thread allocated: HotSpot counts it per thread. */
final class Allocations {
    private Allocations() {
    }

    /** The bytes the calling thread allocated so far. */
    static long allocatedHere() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }
}
