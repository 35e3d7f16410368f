package io.umhflux.spring.boot;

import java.util.List;

/** This JVM's child processes. */
final class Children {
    private Children() {
    }

    static List<Long> of() {
        return ProcessHandle.current().children().filter(ProcessHandle::isAlive).map(ProcessHandle::pid).toList();
    }
}
