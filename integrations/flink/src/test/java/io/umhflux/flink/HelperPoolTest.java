package io.umhflux.flink;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.umhflux.Blob;
import io.umhflux.HelperFailedException;
import io.umhflux.Restart;
import io.umhflux.UmhFlux;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The request stage's pool on its own, without a job around it. */
class HelperPoolTest {
    /** An idempotent request whose retries are spent fails with the last helper's end, not Reactor's wrapper. */
    @Test
    void spentRetriesFailWithTheHelpersFailure() {
        try (Blob sh = Blob.of(Path.of("/bin/sh"))) {
            HelperPool<String, String> pool = new HelperPool<>(UmhFlux.spec(sh).args("-c", "read l; exit 3")
                    .lines(64), 1, 1, 1, Restart.backoff(Duration.ofMillis(10), Duration.ofMillis(10)));
            try {
                assertThatThrownBy(() -> pool.exchange("x").block(Duration.ofSeconds(20)))
                        .isInstanceOf(HelperFailedException.class).hasMessageContaining("exit 3");
            } finally {
                pool.dispose();
            }
        }
    }
}
