package io.umhflux;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Bytes could not become an executable image: the source could not be read, the pinned SHA-256 did not
 * match the sealed content, or no placement (sealed memfd, private file) was possible. Nothing is left
 * behind when it is thrown: every descriptor and file created on the way was released.
 */
public final class BlobException extends UmhException {
    private static final long serialVersionUID = 1L;

    private final String blobName;
    @SuppressWarnings("serial") // always a List.copyOf, which is serializable
    private final List<String> attempts;

    /**
     * @param blobName the blob's name
     * @param message what failed
     * @param attempts each placement tried and why it was refused, in order; may be empty
     * @param cause the underlying failure, or {@code null}
     */
    public BlobException(String blobName, String message, List<String> attempts,
            @Nullable Throwable cause) {
        super(format(blobName, message, attempts), cause);
        this.blobName = blobName;
        this.attempts = List.copyOf(attempts);
    }

    private static String format(String blobName, String message, List<String> attempts) {
        StringBuilder sb = new StringBuilder("blob '").append(blobName).append("': ").append(message);
        if (!attempts.isEmpty()) {
            sb.append("; tried: ").append(String.join("; ", attempts));
        }
        return sb.toString();
    }

    /** @return the name of the blob that failed to load */
    public String blobName() {
        return blobName;
    }

    /** @return each placement tried and why it was refused, in the order tried */
    public List<String> attempts() {
        return attempts;
    }
}
