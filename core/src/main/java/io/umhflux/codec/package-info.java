/**
 * Typed messages on a helper's pipes: a {@link io.umhflux.codec.Codec} turns one message into bytes and
 * back, a {@link io.umhflux.codec.Framing} says where one message ends and the next begins.
 */
@NullMarked
package io.umhflux.codec;

import org.jspecify.annotations.NullMarked;
