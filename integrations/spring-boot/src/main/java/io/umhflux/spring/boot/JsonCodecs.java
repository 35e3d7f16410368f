package io.umhflux.spring.boot;

import io.umhflux.UmhSpec;
import io.umhflux.codec.Framing;
import io.umhflux.codec.json.JsonCodec;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/** The JSON-lines codec with the application's mapper; loaded only where Jackson is (see {@link OptionalCodecs}). */
final class JsonCodecs {
    private JsonCodecs() {
    }

    static UmhSpec<?, ?> codec(UmhSpec<?, ?> spec, Framing framing, UmhProperties.Json json,
            @Nullable Object mapper) {
        ObjectMapper m = mapper instanceof ObjectMapper om ? om : JsonMapper.builder().build();
        Class<?> in = json.getResponseType() != null ? json.getResponseType() : JsonNode.class;
        Class<?> out = json.getRequestType() != null ? json.getRequestType() : JsonNode.class;
        return spec.codec(framing, JsonCodec.of(m, in), JsonCodec.of(m, out));
    }
}
