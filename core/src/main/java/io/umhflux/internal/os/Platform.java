package io.umhflux.internal.os;

import java.util.Locale;

/** Where umh-flux runs: Linux on x86_64 or aarch64. Kept apart from {@link Os} so the check loads no native code. */
public final class Platform {
    private static final String OS = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    private static final String ARCH = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);

    private Platform() {
    }

    /** Whether this JVM runs on a supported platform. */
    public static boolean isSupported() {
        return OS.equals("linux") && (ARCH.equals("amd64") || ARCH.equals("x86_64") || ARCH.equals("aarch64"));
    }

    /**
     * Fails at once, before any native code is touched, where umh-flux cannot work.
     *
     * @param what what the caller was about to do, for the message
     * @throws UnsupportedOperationException off Linux x86_64/aarch64
     */
    public static void requireSupported(String what) {
        if (!isSupported()) {
            throw new UnsupportedOperationException("umh-flux cannot " + what + " on " + System.getProperty("os.name")
                    + "/" + System.getProperty("os.arch") + ": only Linux on x86_64 and aarch64 is supported");
        }
    }
}
