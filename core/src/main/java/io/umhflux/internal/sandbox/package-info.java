/**
 * The sandbox launcher ({@code SandboxLauncher}): the static C program that applies a {@link io.umhflux.Sandbox}
 * between the spawn and the helper's first instruction, and the pids cgroup that bounds its processes
 * ({@code PidsCgroup}).
 *
 * <p>Internal: not exported, and may change in any release.
 */
@NullMarked
package io.umhflux.internal.sandbox;

import org.jspecify.annotations.NullMarked;
