package io.umhflux.test;

import io.umhflux.Blob;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Assumptions;

/** Small C helpers from {@code src/test/resources/c}, compiled by gcc once per test JVM. */
public final class CHelpers {
    private static final Path OUT = Path.of("target", "c-helpers");
    private static final Map<String, Path> BUILT = new ConcurrentHashMap<>();

    private CHelpers() {
    }

    /** The compiled helper {@code name}; skips the calling test where gcc is missing. */
    public static Path executable(String name) {
        Path exe = BUILT.computeIfAbsent(name, CHelpers::compile);
        Assumptions.assumeTrue(Files.isExecutable(exe), "gcc is not installed; C helper " + name + " not built");
        return exe;
    }

    public static Blob blob(String name) {
        return Blob.of(executable(name));
    }

    private static Path compile(String name) {
        try {
            Files.createDirectories(OUT);
            Path src = OUT.resolve(name + ".c");
            try (var in = CHelpers.class.getResourceAsStream("/c/" + name + ".c")) {
                if (in == null) {
                    throw new IllegalArgumentException("no C source " + name);
                }
                Files.write(src, in.readAllBytes());
            }
            Path exe = OUT.resolve(name);
            Process gcc;
            try {
                gcc = new ProcessBuilder("gcc", "-O2", "-o", exe.toString(), src.toString())
                        .redirectErrorStream(true).start();
            } catch (IOException noGcc) {
                return exe; // not executable: executable() skips
            }
            String out = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (gcc.waitFor() != 0) {
                throw new IllegalStateException("gcc failed for " + name + ":\n" + out);
            }
            return exe;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
