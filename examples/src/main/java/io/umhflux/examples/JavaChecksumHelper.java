package io.umhflux.examples;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.util.zip.CRC32;

/**
 * The checksum helper's protocol ({@code src/main/c/checksum.c}) in Java, for the demo where gcc was missing
 * at build time: the same length-prefixed frames both ways, each answered with the payload's CRC-32 and
 * length, flushed whenever no more input is waiting. Unlike the C helper it has no poison; it exits 0 at end
 * of input before a length prefix is complete, 2 on a length above the maximum, 1 when input ends inside a
 * payload.
 */
final class JavaChecksumHelper {
    private JavaChecksumHelper() {
    }

    public static void main(String[] args) throws IOException {
        BufferedInputStream buffered = new BufferedInputStream(new FileInputStream(FileDescriptor.in), 1 << 16);
        DataInputStream in = new DataInputStream(buffered);
        DataOutputStream out = new DataOutputStream(
                new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16));
        byte[] chunk = new byte[1 << 16];
        CRC32 crc = new CRC32();
        for (long frame = 0;; frame++) {
            int first = in.read();
            if (first < 0) {
                break; // end of input between frames: done
            }
            int length;
            try {
                length = (first << 24) | (in.readUnsignedByte() << 16) | (in.readUnsignedShort());
            } catch (EOFException cutShort) {
                cutShort(out, frame, "its length prefix");
                return;
            }
            if (length < 0 || length > Checksums.MAX_PAYLOAD) {
                out.flush();
                System.err.println("checksum: frame " + frame + ": length prefix " + Integer.toUnsignedString(length)
                        + " exceeds the maximum of " + Checksums.MAX_PAYLOAD + " bytes");
                System.exit(2);
            }
            crc.reset();
            for (int left = length; left > 0;) {
                int n = Math.min(left, chunk.length);
                try {
                    in.readFully(chunk, 0, n);
                } catch (EOFException cutShort) {
                    cutShort(out, frame, "its " + length + "-byte payload");
                    return;
                }
                crc.update(chunk, 0, n);
                left -= n;
            }
            out.writeInt(8);
            out.writeInt((int) crc.getValue());
            out.writeInt(length);
            if (buffered.available() == 0) {
                out.flush();          // the owner may be waiting for this answer before it sends more
            }
        }
        out.flush();
    }

    /** Input ended inside a frame: the answers so far go out first, then exit 2, as the C helper does. */
    private static void cutShort(DataOutputStream out, long frame, String what) throws IOException {
        out.flush();
        System.err.println("checksum: input ended inside frame " + frame + " (" + what + ")");
        System.exit(2);
    }
}
