package io.umhflux.codec;

import io.umhflux.UmhException;
import org.jspecify.annotations.Nullable;

/**
 * A message that its codec or framing could not encode. The send (or the request) fails with it; its message
 * names the message, its cause is the codec's own exception. Every message taken before it is still written.
 * Bytes from the helper that cannot be decoded end the helper instead, as a
 * {@link io.umhflux.HelperFailedException} ("bad frame on stdout") whose cause names the offset and length.
 */
public class CodecException extends UmhException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what could not be encoded, and why
     * @param cause the codec's failure, if any
     */
    public CodecException(String message, @Nullable Throwable cause) {
        super(message, cause);
    }
}
