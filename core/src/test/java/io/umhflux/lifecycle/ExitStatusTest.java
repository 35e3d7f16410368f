package io.umhflux.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import io.umhflux.ExitStatus;
import io.umhflux.HelperFailedException;
import java.util.List;
import org.junit.jupiter.api.Test;

class ExitStatusTest {
    @Test
    void toStringShowsTheLastStderrLinesBounded() {
        assertThat(ExitStatus.exited(0)).hasToString("exit 0");
        assertThat(ExitStatus.killed(9, false)).hasToString("killed by SIGKILL (9)");
        assertThat(ExitStatus.exited(1).withStderrTail(List.of("bad input"))).hasToString(
                "exit 1; stderr: \"bad input\"");
        String longLine = "x".repeat(500);
        ExitStatus many = ExitStatus.exited(2).withStderrTail(List.of("one", "two", "three", longLine));
        assertThat(many.toString()).isEqualTo("exit 2; stderr: ... | \"two\" | \"three\" | \"" + "x".repeat(200)
                + "...\"");
        assertThat(many.summary()).isEqualTo("exit 2");
    }

    /** An exception's message names the status once and lists the whole tail itself. */
    @Test
    void aHelperFailureShowsTheSummaryAndTheTail() {
        ExitStatus status = ExitStatus.exited(3).withStderrTail(List.of("first", "second"));
        assertThat(new HelperFailedException("h", 42, "it failed", status, null))
                .hasMessage("helper 'h' (pid 42): it failed [exit 3]; last stderr lines:\n  first\n  second");
    }
}
