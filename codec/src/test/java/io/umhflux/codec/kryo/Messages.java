package io.umhflux.codec.kryo;

import com.esotericsoftware.kryo.Kryo;
import java.util.concurrent.atomic.AtomicInteger;

/** The registrations both sides of the tests' pipes share. */
final class Messages {
    static final AtomicInteger SECRETS_MADE = new AtomicInteger();

    private Messages() {
    }

    static void register(Kryo kryo) {
        kryo.register(Point.class, 20);
    }

    /** Counts its instances: decoding must never create one from a frame that names an unknown id. */
    static final class Secret {
        int value;

        Secret() {
            SECRETS_MADE.incrementAndGet();
        }
    }
}
