/**
 * One helper as a {@link io.umhflux.Umh}: its process and its three pipes tied together ({@code HelperHandle}), what
 * it needs from the spec ({@code HandleConfig}), and the registry that stops every helper when the JVM exits
 * ({@code LiveHelpers}).
 *
 * <p>Internal: not exported, and may change in any release.
 */
@NullMarked
package io.umhflux.internal.handle;

import org.jspecify.annotations.NullMarked;
