package io.umhflux.spring.boot;

import com.esotericsoftware.kryo.Kryo;
import io.umhflux.UmhSpec;
import io.umhflux.codec.Framing;
import io.umhflux.codec.kryo.KryoCodec;
import java.util.function.Consumer;

/** The Kryo codec with the application's registrations; loaded only where Kryo is (see {@link OptionalCodecs}). */
final class KryoCodecs {
    private KryoCodecs() {
    }

    @SuppressWarnings("unchecked")
    static UmhSpec<?, ?> codec(UmhSpec<?, ?> spec, Framing framing, Consumer<?> registrations) {
        KryoCodec<Object> codec = KryoCodec.of(Object.class, (Consumer<Kryo>) registrations);
        return spec.codec(framing, codec, codec);
    }
}
