package io.umhflux.spring.boot;

import io.umhflux.UmhSpec;
import io.umhflux.codec.Framing;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;

/**
 * The codecs of the optional libraries: this class names none of their types (so it loads without them) and
 * checks they are there; {@link JsonCodecs} and {@link KryoCodecs} use them, loaded only when a helper does.
 */
final class OptionalCodecs {
    private OptionalCodecs() {
    }

    static boolean present(String className) {
        try {
            Class.forName(className, false, OptionalCodecs.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    static UmhSpec<?, ?> json(String prefix, UmhSpec<?, ?> spec, Framing framing, UmhProperties.Json json,
            @Nullable Object mapper) {
        if (!present("io.umhflux.codec.json.JsonCodec") || !present("tools.jackson.databind.ObjectMapper")) {
            throw new InvalidConfigurationPropertyValueException(prefix + ".codec", "json",
                    "the JSON codec needs umh-flux-codec and tools.jackson.core:jackson-databind on the class path");
        }
        return JsonCodecs.codec(spec, framing, json, mapper);
    }

    static UmhSpec<?, ?> kryo(String prefix, UmhSpec<?, ?> spec, Framing framing, UmhProperties.Kryo kryo,
            Function<String, @Nullable Object> beans) {
        if (!present("io.umhflux.codec.kryo.KryoCodec") || !present("com.esotericsoftware.kryo.Kryo")) {
            throw new InvalidConfigurationPropertyValueException(prefix + ".codec", "kryo",
                    "the Kryo codec needs umh-flux-codec and com.esotericsoftware:kryo on the class path");
        }
        String name = kryo.getRegistrations();
        if (name == null || name.isEmpty()) {
            throw new InvalidConfigurationPropertyValueException(prefix + ".kryo.registrations", null,
                    "the Kryo codec needs the name of a Consumer<Kryo> bean that registers the message classes");
        }
        Object bean = beans.apply(name);
        if (!(bean instanceof Consumer)) {
            throw new InvalidConfigurationPropertyValueException(prefix + ".kryo.registrations", name,
                    bean == null ? "there is no bean of that name" : "the bean is not a Consumer<Kryo>: " + bean);
        }
        return KryoCodecs.codec(spec, framing, (Consumer<?>) bean);
    }
}
