package io.umhflux.internal.handle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.umhflux.Blob;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A helper leaves the registry of live helpers once it was reaped, however its inbound ended. */
class LiveHelpersTest {

    @Test
    void helpersCancelledAfterTheFirstMessageAreForgottenOnceReaped() {
        try (Blob yes = Blob.of("yes", "#!/bin/sh\nexec yes\n".getBytes(StandardCharsets.UTF_8))) {
            int before = LiveHelpers.count();
            for (int i = 0; i < 20; i++) {
                Umh<ByteBuf, ByteBuf> umh = UmhFlux.spec(yes).stopGrace(Duration.ofMillis(50)).spawn();
                assertThat(umh.inbound().take(1).count().block(Duration.ofSeconds(20))).isEqualTo(1);
                assertThat(umh.exit().block(Duration.ofSeconds(20))).isNotNull();
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> LiveHelpers.count() <= before);
        }
    }
}
