package io.umhflux.internal.os;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Which JVMs the pipes trust to pin a heap array for a system call rather than copy it. */
class OsTest {
    @Test
    void hotSpotPinsArraysAndOtherJvmsAreNotTrustedTo() {
        assertThat(Os.pinsArrays("OpenJDK 64-Bit Server VM")).isTrue();
        assertThat(Os.pinsArrays("Java HotSpot(TM) 64-Bit Server VM")).isTrue();
        assertThat(Os.pinsArrays("Eclipse OpenJ9 VM")).isFalse();
        assertThat(Os.pinsArrays("")).isFalse();
        // the JVM these tests run on is HotSpot (Temurin or Debian's OpenJDK), so arrays are pinned unless the
        // copying-io run turned it off
        assertThat(Os.PINS_ARRAYS).isEqualTo(!"false".equals(System.getProperty("io.umhflux.pinnedIo")));
    }
}
