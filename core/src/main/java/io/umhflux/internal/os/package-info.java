/**
 * The C library calls the library makes, behind one interface ({@code LibC}) with two bindings: the Foreign Function
 * and Memory API on Java 22+ and jnr-ffi before ({@code JnrLayer}); {@code Os} picks one and holds the constants and
 * errno helpers.
 *
 * <p>Internal: not exported, and may change in any release.
 */
@NullMarked
package io.umhflux.internal.os;

import org.jspecify.annotations.NullMarked;
