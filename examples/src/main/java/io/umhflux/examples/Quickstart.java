package io.umhflux.examples;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.umhflux.Blob;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import reactor.core.publisher.Flux;

/** The smallest use: run {@code cat} from its own bytes and echo a line through it. */
public final class Quickstart {
    private Quickstart() {
    }

    /** Echoes {@code text} through a {@code cat} helper and returns what came back. */
    public static String echo(String text) {
        try (Blob cat = Blob.of(Path.of("/bin/cat"))) {                 // loaded once into a sealed memfd
            Umh<ByteBuf, ByteBuf> umh = UmhFlux.spawn(cat);               // no file on disk is executed
            umh.outbound()
                    .send(Flux.just(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8)))  // then stdin closes
                    .subscribe(null, e -> { });                           // a failure ends the inbound too
            return umh.inbound()                                          // reads only on demand
                    .map(ByteBufUtil::getBytes)                           // each ByteBuf is released after onNext
                    .collect(ByteArrayOutputStream::new, ByteArrayOutputStream::writeBytes)
                    .map(bytes -> bytes.toString(StandardCharsets.UTF_8)) // decode once: a character may span reads
                    .block();                                             // completes after cat exits 0
        }
    }

    public static void main(String[] args) {
        System.out.print(echo("hello from a helper process\n"));
    }
}
