package io.umhflux;

import io.netty.buffer.ByteBuf;
import java.nio.file.Path;

/**
 * Run in a child JVM by {@link HandleLifecycleTest}: spawns a {@code cat} helper, prints its pid, then
 * then, once a line arrives on its stdin, either exits normally ("exit": the shutdown hook must stop the
 * helper) or waits to be killed ("wait").
 */
public final class ShutdownHookMain {
    private ShutdownHookMain() {
    }

    public static void main(String[] args) throws Exception {
        Blob cat = Blob.of(Path.of("/bin/cat"));
        Umh<ByteBuf, ByteBuf> umh = UmhFlux.spawn(cat);
        System.out.println(umh.pid());
        System.out.flush();
        new java.io.BufferedReader(new java.io.InputStreamReader(System.in, java.nio.charset.StandardCharsets.UTF_8))
                .readLine();
        if (args.length > 0 && args[0].equals("wait")) {
            Thread.sleep(600_000);
        }
        System.exit(0);
    }
}
