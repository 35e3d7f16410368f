package io.umhflux.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.umhflux.examples.Checksums.Checksum;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class FlinkChecksumsTest {
    @Test
    void aFlinkJobChecksumsRecordsThroughTheEmbeddedHelper() throws Exception {
        Assumptions.assumeTrue(Checksums.isBuilt(), "the C helper was not built (no gcc)");
        List<Checksum> answers = FlinkChecksums.checksums(20_000);
        List<Checksum> expected = IntStream.range(0, 20_000)
                .mapToObj(i -> Checksum.of(("payload " + i).getBytes(StandardCharsets.UTF_8)))
                .collect(Collectors.toList());
        // two subtasks each answer in their order; across them the order is the sink's
        assertThat(answers).containsExactlyInAnyOrderElementsOf(expected);
    }
}
