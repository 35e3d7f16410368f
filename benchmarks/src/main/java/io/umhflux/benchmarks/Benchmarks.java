package io.umhflux.benchmarks;

import io.umhflux.Blob;
import io.umhflux.internal.blob.BlobAccess;
import io.umhflux.internal.blob.LoadedBlob;
import java.util.List;
import java.util.Map;

/** Shared pieces of the benchmarks. */
final class Benchmarks {
    private Benchmarks() {
    }

    static LoadedBlob loaded(Blob blob) {
        return BlobAccess.loaded(blob);
    }

    /** The JVM's environment as {@code NAME=value}, as ProcessBuilder passes it by default. */
    static List<String> envp() {
        return System.getenv().entrySet().stream().map((Map.Entry<String, String> e) -> e.getKey() + "="
                + e.getValue()).toList();
    }
}
