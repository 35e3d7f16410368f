/**
 * Protocol Buffers for umh-flux: {@link io.umhflux.codec.protobuf.ProtobufCodec}, varint-delimited messages as
 * protobuf's own {@code writeDelimitedTo} and {@code parseDelimitedFrom} write and read them. Needs protobuf-java,
 * an optional dependency of this module.
 */
@NullMarked
package io.umhflux.codec.protobuf;

import org.jspecify.annotations.NullMarked;
