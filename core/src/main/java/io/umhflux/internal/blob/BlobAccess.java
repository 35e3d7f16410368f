package io.umhflux.internal.blob;

import io.umhflux.Blob;
import java.util.Objects;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Lets the machinery reach the {@link LoadedBlob} behind a public {@link Blob} without making that a public
 * method of {@code Blob} (the JDK's "shared secrets" pattern). {@code Blob} installs the accessor when its
 * class initializes, which happens before any instance exists.
 */
public final class BlobAccess {
    private static volatile @Nullable Function<Blob, LoadedBlob> accessor;

    private BlobAccess() {
    }

    /** Called once, by {@code Blob}'s static initializer. */
    public static void install(Function<Blob, LoadedBlob> access) {
        accessor = Objects.requireNonNull(access, "access");
    }

    /** The loaded blob behind {@code blob}. */
    public static LoadedBlob loaded(Blob blob) {
        Objects.requireNonNull(blob, "blob");
        Function<Blob, LoadedBlob> access = accessor;
        if (access == null) {
            throw new IllegalStateException("Blob did not install its accessor");
        }
        return access.apply(blob);
    }
}
