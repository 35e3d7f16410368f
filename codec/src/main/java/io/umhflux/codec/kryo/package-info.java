/**
 * Kryo for umh-flux: {@link io.umhflux.codec.kryo.KryoCodec} on the owner's side, and
 * {@link io.umhflux.codec.kryo.KryoHelper}, a small blocking loop that makes a Java class the helper on the
 * other side of the pipes.
 */
@NullMarked
package io.umhflux.codec.kryo;

import org.jspecify.annotations.NullMarked;
