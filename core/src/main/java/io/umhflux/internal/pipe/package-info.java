/**
 * The helper's pipes: stdout read on demand and decoded into frames ({@code InboundPipe}, {@code FramedCodec}), stdin
 * written under a high-water mark ({@code OutboundPipe} with {@code OutboundDemand}, {@code BatchEncoder},
 * {@code StdinWriter} and {@code SendEnd}, fed by a publisher or an {@code OutboundSink}), and stderr kept as lines
 * and a tail ({@code StderrPipe}).
 *
 * <p>Internal: not exported, and may change in any release.
 */
@NullMarked
package io.umhflux.internal.pipe;

import org.jspecify.annotations.NullMarked;
