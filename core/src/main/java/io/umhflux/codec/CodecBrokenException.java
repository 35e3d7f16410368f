package io.umhflux.codec;

import org.jspecify.annotations.Nullable;

/**
 * Thrown by a codec that can encode nothing more for its helper: its state is out of step with the helper's (a
 * Kryo that keeps state across messages, after a message failed midway through it). Unlike any other failure to
 * encode one message, the send fails with it, even where a request client would fail that one request and go on;
 * so the request clients stop the helper, and a supervised client or pool starts a new one, with a new codec.
 */
public class CodecBrokenException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what broke the codec
     * @param cause the failure that broke it, if any
     */
    public CodecBrokenException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
