package io.umhflux.codec;

import org.jspecify.annotations.Nullable;

/**
 * Thrown by a codec that can encode nothing more for its helper: its state is out of step with the helper's (a
 * Kryo that keeps state across messages, after a message failed midway through it). Any failure to encode a message
 * fails the send (with a {@link CodecException} that names the message, caused by the codec's exception), but a
 * request client fails just that one request and goes on; this one fails the send there too, so the request
 * clients stop the helper, and a supervised client or pool starts a new one, with a new codec.
 */
public class CodecBrokenException extends CodecException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what broke the codec
     * @param cause the failure that broke it, if any
     */
    public CodecBrokenException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
