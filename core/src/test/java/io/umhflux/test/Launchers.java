package io.umhflux.test;

import io.umhflux.internal.process.Launcher;
import io.umhflux.internal.spawn.PipeBudget;
import io.umhflux.internal.spawn.PosixSpawner;

/** The launcher variants the tests exercise. */
public final class Launchers {
    private Launchers() {
    }

    public static Launcher standard() {
        return Launcher.standard();
    }

    /** As on glibc before 2.34: inherited descriptors closed from a /proc/self/fd listing. */
    public static Launcher withoutClosefrom() {
        return new Launcher(new PosixSpawner(false, PipeBudget.shared()), true);
    }

    /** As on kernels before 5.3: exits found by the shared polling reaper. */
    public static Launcher withoutPidfd() {
        return new Launcher(PosixSpawner.standard(), false);
    }
}
