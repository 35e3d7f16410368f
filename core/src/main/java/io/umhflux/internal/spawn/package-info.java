/**
 * {@code posix_spawn} with the file actions and attributes every helper gets ({@code PosixSpawner}), and the budget of
 * large pipes per JVM user ({@code PipeBudget}).
 *
 * <p>Internal: not exported, and may change in any release.
 */
@NullMarked
package io.umhflux.internal.spawn;

import org.jspecify.annotations.NullMarked;
