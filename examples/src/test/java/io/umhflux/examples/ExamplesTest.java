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
    void feedFromThreadsKeepsEachThreadsOrder() throws Exception {
        java.util.List<String> lines = FeedFromThreads.fromThreads(4, 50_000);
        assertThat(lines).hasSize(200_000);
        int[] next = new int[4];
        for (String l : lines) {
            String[] words = l.split(" "); // "THREAD 2 LINE 17"
            assertThat(words[0]).isEqualTo("THREAD");
            int thread = Integer.parseInt(words[1]);
            assertThat(Integer.parseInt(words[3])).as("thread %d's next line", thread).isEqualTo(next[thread]++);
        }
    }

    @Test
    void feedFromCallbacksAndFromAChain() throws Exception {
        java.util.List<String> records = java.util.stream.IntStream.range(0, 50_000).mapToObj(i -> "record " + i)
                .collect(java.util.stream.Collectors.toList());
        java.util.List<String> upper = records.stream().map(String::toUpperCase)
                .collect(java.util.stream.Collectors.toList());
        assertThat(FeedFromThreads.fromCallbacks(records)).isEqualTo(upper);
        assertThat(FeedFromThreads.fromAChain(records)).isEqualTo(upper);
    }

    @Test
    void typedPipelinePricesOrdersInAHelperJvm() {
        assertThat(TypedPipeline.price(java.util.List.of(new TypedPipeline.Order(7, "bolts", 4))))
                .containsExactly(new TypedPipeline.Priced(7, 1000));
    }
}
