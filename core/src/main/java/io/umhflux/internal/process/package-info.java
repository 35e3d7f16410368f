/**
 * A spawned helper as a process: launched from a blob ({@code Launcher}), watched through a pidfd or by polling until
 * reaped ({@code PidfdWatcher}, {@code PollingReaper}), its process group signalled ({@code Child},
 * {@code HelperProcess}).
 *
 * <p>Internal: not exported, and may change in any release.
 */
@NullMarked
package io.umhflux.internal.process;

import org.jspecify.annotations.NullMarked;
