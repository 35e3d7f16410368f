package io.umhflux.spawn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.umhflux.Blob;
import io.umhflux.Environment;
import io.umhflux.TestHelpers;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import io.umhflux.UmhSpec;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.util.context.Context;

/** Variables taken from the Reactor context of the subscription that spawns a helper. */
class ContextEnvironmentTest {
    /** Reads its stdin to the end first: it exits only after the send was complete. */
    private static final String PRINT = "cat >/dev/null; printf '%s|%s\\n' \"${REQUEST_ID-unset}\" \"${KEPT-unset}\"";

    @Test
    void eachSubscriptionSpawnsItsHelperWithTheVariablesOfItsOwnContext() {
        try (Blob sh = TestHelpers.sh()) {
            UmhSpec<String, String> spec = UmhFlux.spec(sh).args("-c", PRINT).lines(1024)
                    .environment(Environment.allow("PATH").with("KEPT", "yes")
                            .withContext(ctx -> ctx.hasKey("requestId")
                                    ? Map.of("REQUEST_ID", ctx.get("requestId")) : Map.of()));
            List<String> seen = Flux.just("a", "b", "c")
                    .concatMap(id -> spec.exchange(Flux.<String>empty()).contextWrite(Context.of("requestId", id)))
                    .collectList().block(TestHelpers.TIMEOUT);
            assertThat(seen).containsExactly("a|yes", "b|yes", "c|yes");
            // outside a subscription the function sees an empty context
            assertThat(spec.exchange(Flux.<String>empty()).collectList().block(TestHelpers.TIMEOUT))
                    .containsExactly("unset|yes");
            Umh<String, String> spawned = spec.spawn();
            spawned.outbound().close().subscribe();
            assertThat(spawned.inbound().collectList().block(TestHelpers.TIMEOUT)).containsExactly("unset|yes");
        }
    }

    @Test
    void contextVariablesOverrideTheOthersInOrder() {
        Environment env = Environment.empty().with("A", "fixed")
                .withContext(ctx -> Map.of("A", "first", "B", "first"))
                .withContext(ctx -> Map.of("B", ctx.getOrDefault("b", "none")));
        assertThat(env.resolve(Context.of("b", "second"))).containsExactlyInAnyOrderEntriesOf(
                Map.of("A", "first", "B", "second"));
        assertThat(env.resolve()).containsEntry("B", "none");
        assertThat(env.toString()).contains("2 from the context");
    }

    @Test
    void aNameOrValueAnEnvironmentCannotHoldFailsTheSpawnAndStartsNothing() {
        List<Long> before = TestHelpers.children('*');
        try (Blob sh = TestHelpers.sh()) {
            UmhSpec<String, String> badName = UmhFlux.spec(sh).args("-c", PRINT).lines(1024)
                    .environment(Environment.empty().withContext(ctx -> Map.of("A=B", "x")));
            assertThatThrownBy(() -> badName.exchange(Flux.<String>empty()).blockLast(TestHelpers.TIMEOUT))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("A=B");
            UmhSpec<String, String> badValue = UmhFlux.spec(sh).args("-c", PRINT).lines(1024)
                    .environment(Environment.empty().withContext(ctx -> Map.of("A", "x\0y")));
            assertThatThrownBy(badValue::spawn)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("NUL");
            UmhSpec<String, String> nullMap = UmhFlux.spec(sh).args("-c", PRINT).lines(1024)
                    .environment(Environment.empty().withContext(ctx -> null));
            assertThatThrownBy(nullMap::spawn)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("null");
        }
        assertThat(TestHelpers.newChildren(before)).isEmpty();
    }
}
