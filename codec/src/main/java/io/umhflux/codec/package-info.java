/**
 * Typed messages for umh-flux pipes. The Kryo codec arrives with the codec issue; the package exists now
 * so that the module layout is fixed.
 */
@NullMarked
package io.umhflux.codec;

import org.jspecify.annotations.NullMarked;
