package io.umhflux.examples;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ExamplesTest {

    @Test
    void quickstartEchoes() {
        assertThat(Quickstart.echo("hello\n")).isEqualTo("hello\n");
    }

    /** Far more than one pipe read of multi-byte characters: none may be cut in two by a chunk boundary. */
    @Test
    void quickstartKeepsCharactersThatSpanReads() {
        String text = "\u20ac\u00e9".repeat(200_000) + "\n";
        assertThat(Quickstart.echo(text)).isEqualTo(text);
    }

    @Test
    void typedPipelinePricesOrdersInAHelperJvm() {
        assertThat(TypedPipeline.price(java.util.List.of(new TypedPipeline.Order(7, "bolts", 4))))
                .containsExactly(new TypedPipeline.Priced(7, 1000));
    }
}
