package io.umhflux.lifecycle;

import io.netty.buffer.ByteBuf;
import io.umhflux.Blob;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
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
        if (args[0].equals("exitOnLoop")) {
            exitOnLoop();
            return;
        }
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

    /**
     * Five helpers that ignore SIGTERM and SIGPIPE and print a line every 50 ms; prints their pids on one line; once
     * a line arrives on stdin, calls {@code System.exit} from the first helper's inbound, on its event loop.
     */
    private static void exitOnLoop() throws Exception {
        Blob stubborn = Blob.of("stubborn", "#!/bin/sh\ntrap '' TERM PIPE\nwhile :; do echo tick; sleep 0.05; done\n"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        // raw bytes: each helper's stdout is read on the loop that writes its stdin and watches its exit
        java.util.List<Umh<ByteBuf, ByteBuf>> helpers = new java.util.ArrayList<>();
        StringBuilder pids = new StringBuilder();
        for (int i = 0; i < 5; i++) {
            Umh<ByteBuf, ByteBuf> umh = UmhFlux.spawn(stubborn);
            helpers.add(umh);
            pids.append(umh.pid()).append(' ');
        }
        System.out.println(pids.toString().trim());
        System.out.flush();
        new java.io.BufferedReader(new java.io.InputStreamReader(System.in, java.nio.charset.StandardCharsets.UTF_8))
                .readLine();
        for (int i = 1; i < helpers.size(); i++) {
            helpers.get(i).inbound().subscribe();
        }
        helpers.get(0).inbound().subscribe(line -> System.exit(0)); // a fatal-error handler on the loop
        Thread.sleep(600_000);
    }
}
