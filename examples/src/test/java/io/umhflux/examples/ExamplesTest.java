package io.umhflux.examples;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ExamplesTest {

    @Test
    void quickstartEchoes() {
        assertThat(Quickstart.echo("hello\n")).isEqualTo("hello\n");
    }

    @Test
    void typedPipelinePricesOrdersInAHelperJvm() {
        assertThat(TypedPipeline.price(java.util.List.of(new TypedPipeline.Order(7, "bolts", 4))))
                .containsExactly(new TypedPipeline.Priced(7, 1000));
    }
}
