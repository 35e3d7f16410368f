package io.umhflux.examples.boot;

import io.umhflux.UmhClient;
import io.umhflux.spring.boot.UmhHelpers;
import java.nio.ByteBuffer;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.RouterFunctions;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Flux;

/**
 * A WebFlux service whose helpers are declared in {@code application.yaml} (the umh-flux starter makes them
 * beans, health components and meters):
 *
 * <ul>
 * <li>{@code POST /checksums}: the request body streams through a helper of its own, the examples' embedded C
 *     helper, each chunk one frame; the response streams one line per chunk, {@code <crc32 hex> <length>}.
 *     Backpressure goes end to end: a helper that stops reading stops the upload.</li>
 * <li>{@code POST /upper} with {@code {"id": 1, "text": "abc"}}: one request to a pool of Python helpers
 *     speaking JSON lines; answers {@code {"id": 1, "upper": "ABC"}}.</li>
 * <li>{@code GET /actuator/health}: a component per helper under {@code umh}.</li>
 * </ul>
 *
 * <pre>{@code
 * mvn -q -pl examples/spring-boot exec:java
 * curl --data-binary @notes.txt http://127.0.0.1:8080/checksums
 * curl -H 'Content-Type: application/json' -d '{"id":1,"text":"abc"}' http://127.0.0.1:8080/upper
 * }</pre>
 */
@SpringBootApplication
public class HelperServiceApplication {
    /** A request to the JSON helper. */
    public record Query(long id, String text) {
    }

    /** Its answer. */
    public record Answer(long id, String upper) {
    }

    /** The routes. */
    @Bean
    RouterFunction<ServerResponse> routes(UmhHelpers helpers, @Qualifier("upper") UmhClient<Answer, Query> upper) {
        return RouterFunctions.route()
                .POST("/checksums", request -> {
                    Flux<byte[]> chunks = request.bodyToFlux(DataBuffer.class).map(HelperServiceApplication::bytes);
                    Flux<String> lines = helpers.<byte[], byte[]>spec("checksum").exchange(chunks)
                            .map(HelperServiceApplication::line);
                    return ServerResponse.ok().contentType(MediaType.TEXT_PLAIN).body(lines, String.class);
                })
                .POST("/upper", request -> request.bodyToMono(Query.class)
                        .flatMap(upper::exchange)
                        .flatMap(answer -> ServerResponse.ok().bodyValue(answer)))
                .build();
    }

    private static byte[] bytes(DataBuffer buffer) {
        try {
            byte[] out = new byte[buffer.readableByteCount()];
            buffer.read(out);
            return out;
        } finally {
            DataBufferUtils.release(buffer);
        }
    }

    /** The helper's answer (CRC-32, then the length, both 4 bytes big-endian) as a line. */
    private static String line(byte[] answer) {
        ByteBuffer b = ByteBuffer.wrap(answer);
        return String.format("%08x %d%n", b.getInt(), b.getInt());
    }

    /** @param args Spring Boot's */
    public static void main(String[] args) {
        SpringApplication.run(HelperServiceApplication.class, args);
    }
}
