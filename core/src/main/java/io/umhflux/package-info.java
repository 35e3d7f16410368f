/**
 * The public API of umh-flux: load an executable's bytes once as a {@link io.umhflux.Blob}, spawn it as a
 * helper process, and read how it ended from its {@link io.umhflux.ExitStatus}.
 *
 * <p>Errors are unchecked and typed: {@link io.umhflux.BlobException} when bytes cannot become an
 * executable image, {@link io.umhflux.SpawnException} when the kernel refuses to start the helper.
 */
@NullMarked
package io.umhflux;

import org.jspecify.annotations.NullMarked;
