/** Internal machinery of umh-flux; not exported, may change in any release. */
@NullMarked
package io.umhflux.internal.handle;

import org.jspecify.annotations.NullMarked;
