/**
 * The Netty epoll event loops the pipes and process watchers run on: the shared default group ({@code EventLoops}) and
 * the hops onto a loop that never drop a task silently ({@code Loops}).
 *
 * <p>Internal: not exported, and may change in any release.
 */
@NullMarked
package io.umhflux.internal.loop;

import org.jspecify.annotations.NullMarked;
