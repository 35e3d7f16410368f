package io.umhflux.internal.pipe;

/** Bytes on a pipe that can never become a message: a bad length, an over-long line, a cut frame. */
public final class FrameException extends Exception {
    private static final long serialVersionUID = 1L;
    private final long offset;
    private final long length;

    /**
     * @param message what is wrong, naming the offset and length
     * @param offset stream offset of the bad frame
     * @param length its (claimed) length
     */
    public FrameException(String message, long offset, long length) {
        super(message);
        this.offset = offset;
        this.length = length;
    }

    public long offset() {
        return offset;
    }

    public long length() {
        return length;
    }
}
