/**
 * One helper as a {@link io.umhflux.Umh}: a spec's settings ({@code HelperConfig}), the wiring that starts a helper
 * of them ({@code HelperStarter}), its process and three pipes tied together ({@code HelperHandle}), and the
 * registry that stops every helper when the JVM exits ({@code LiveHelpers}).
 *
 * <p>Internal: not exported, and may change in any release.
 */
@NullMarked
package io.umhflux.internal.handle;

import org.jspecify.annotations.NullMarked;
