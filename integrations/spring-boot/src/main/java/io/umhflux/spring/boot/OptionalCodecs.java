package io.umhflux.spring.boot;

import io.umhflux.UmhSpec;
import io.umhflux.codec.Framing;
import io.umhflux.codec.json.JsonCodec;
import io.umhflux.codec.kryo.KryoCodec;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/** The codecs of the optional libraries, in a class of their own: loaded only when a helper uses one. */
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
        return jsonCodec(spec, framing, json, mapper);
    }

    private static UmhSpec<?, ?> jsonCodec(UmhSpec<?, ?> spec, Framing framing, UmhProperties.Json json,
            @Nullable Object mapper) {
        ObjectMapper m = mapper instanceof ObjectMapper om ? om : JsonMapper.builder().build();
        Class<?> in = json.getResponseType() != null ? json.getResponseType() : JsonNode.class;
        Class<?> out = json.getRequestType() != null ? json.getRequestType() : JsonNode.class;
        return spec.codec(framing, JsonCodec.of(m, in), JsonCodec.of(m, out));
    }

    @SuppressWarnings("unchecked")
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
        Consumer<com.esotericsoftware.kryo.Kryo> registrations = (Consumer<com.esotericsoftware.kryo.Kryo>) bean;
        KryoCodec<Object> codec = KryoCodec.of(Object.class, registrations);
        return spec.codec(framing, codec, codec);
    }
}
