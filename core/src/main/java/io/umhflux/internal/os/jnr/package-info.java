/**
 * The jnr-ffi binding of the C library ({@code JnrLibC}).
 *
 * <p>Internal, and may change in any release; exported to all modules only because jnr-ffi implements the interface in
 * a class loader of its own.
 */
@NullMarked
package io.umhflux.internal.os.jnr;

import org.jspecify.annotations.NullMarked;
