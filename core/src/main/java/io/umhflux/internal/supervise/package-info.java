/**
 * Supervision: request/response over one helper ({@link io.umhflux.internal.supervise.RequestPipeline}), a helper
 * started again when it ends ({@link io.umhflux.internal.supervise.SupervisedClient}) and pools of helpers on
 * reactor-pool ({@link io.umhflux.internal.supervise.PooledClient}).
 *
 * <p>Internal: not exported, and may change in any release.
 */
@NullMarked
package io.umhflux.internal.supervise;

import org.jspecify.annotations.NullMarked;
