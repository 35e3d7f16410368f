package io.umhflux.examples;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

/**
 * A client on a plain socket, for what an HTTP library hides: how fast the response is read (not at all,
 * a little), and an abrupt disconnect. It uploads a {@link Pattern} body from a thread of its own while the
 * test reads, as a streaming client must.
 */
final class RawHttpClient implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final CompletableFuture<Long> upload;
    private long chunkLeft;
    private boolean lastChunk;

    /**
     * Connects with a receive buffer of {@code receiveBuffer} bytes (small, so that the kernel holds little
     * of what the client does not read) and starts uploading {@code bodyBytes} bytes of the pattern.
     */
    RawHttpClient(int port, String path, long bodyBytes, int receiveBuffer) throws IOException {
        socket = new Socket();
        socket.setReceiveBufferSize(receiveBuffer);
        socket.connect(new InetSocketAddress("127.0.0.1", port));
        in = new BufferedInputStream(socket.getInputStream());
        OutputStream out = socket.getOutputStream();
        out.write(("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
                + "Content-Length: " + bodyBytes + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        upload = CompletableFuture.supplyAsync(() -> {
            byte[] chunk = new byte[64 * 1024];
            long sent = 0;
            try {
                while (sent < bodyBytes) {
                    int n = (int) Math.min(chunk.length, bodyBytes - sent);
                    Pattern.fill(chunk, sent, false);
                    out.write(chunk, 0, n);
                    sent += n;
                }
                out.flush();
            } catch (IOException closed) {
                // the test closed the socket: the upload ends with what was sent
            }
            return sent;
        }, runnable -> new Thread(runnable, "raw-http-upload").start());
    }

    /** Reads the status line and headers; returns the status line. Expects a chunked body. */
    String readHead() throws IOException {
        String status = readLine();
        for (String header = readLine(); !header.isEmpty(); header = readLine()) {
            if (header.regionMatches(true, 0, "transfer-encoding:", 0, 18)) {
                if (!header.toLowerCase(java.util.Locale.ROOT).contains("chunked")) {
                    throw new IOException("expected a chunked body: " + header);
                }
            }
        }
        return status;
    }

    /** Reads up to {@code length} body bytes into {@code buffer}; -1 after the last chunk. */
    int readBody(byte[] buffer, int length) throws IOException {
        if (lastChunk) {
            return -1;
        }
        if (chunkLeft == 0) {
            chunkLeft = Long.parseLong(readLine().split(";")[0].trim(), 16);
            if (chunkLeft == 0) {
                readLine(); // the empty trailer
                lastChunk = true;
                return -1;
            }
        }
        int n = in.read(buffer, 0, (int) Math.min(length, chunkLeft));
        if (n < 0) {
            throw new EOFException("the body ended inside a chunk");
        }
        chunkLeft -= n;
        if (chunkLeft == 0 && !readLine().isEmpty()) {
            throw new IOException("no CRLF after a chunk");
        }
        return n;
    }

    /** @return how many body bytes the upload thread sent, once it ended */
    CompletableFuture<Long> upload() {
        return upload;
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new EOFException("connection closed; line so far: " + line);
            }
            line.write(c);
        }
        String s = line.toString(StandardCharsets.US_ASCII);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }

    /** Disconnects abruptly: a reset, as a client that crashes or gives up does. */
    void abort() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    /** The test body: a repeating run of lowercase letters, digits and newlines, known at every offset. */
    static final class Pattern {
        private static final byte[] RUN = "abcdefghijklmnopqrstuvwxyz0123456789\n".getBytes(StandardCharsets.US_ASCII);

        private Pattern() {
        }

        /** Fills {@code chunk} with the pattern from {@code offset}, uppercased if {@code upper}. */
        static void fill(byte[] chunk, long offset, boolean upper) {
            int at = (int) (offset % RUN.length);
            for (int i = 0; i < chunk.length; i++) {
                byte b = RUN[at];
                chunk[i] = upper && b >= 'a' && b <= 'z' ? (byte) (b - 32) : b;
                at = at + 1 == RUN.length ? 0 : at + 1;
            }
        }
    }
}
