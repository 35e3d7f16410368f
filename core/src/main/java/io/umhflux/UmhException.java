package io.umhflux;

import org.jspecify.annotations.Nullable;

/**
 * The root of the errors umh-flux raises. Unchecked, like Reactor's, so they travel through {@code onError}
 * unchanged; each subtype carries the context a user needs to act on it.
 */
public class UmhException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what failed, with its context
     * @param cause the underlying failure, if any
     */
    public UmhException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }

    /** @param message what failed, with its context */
    public UmhException(String message) {
        super(message);
    }
}
