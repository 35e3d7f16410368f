package io.umhflux.micrometer;

import io.micrometer.observation.Observation;
import java.util.Objects;

/** What an observation of one request to a helper knows: the helper's name and how the request ended. */
public final class UmhRequestContext extends Observation.Context {
    /** How a request ended, as the {@code outcome} key shows it. */
    public enum Outcome {
        /** Still in flight. */
        UNKNOWN,
        /** The helper answered. */
        ANSWERED,
        /** It failed: the helper ended, timed out, or the request could not be encoded. */
        FAILED,
        /** The subscriber cancelled it. */
        CANCELLED
    }

    private final String helper;
    private volatile Outcome outcome = Outcome.UNKNOWN;

    UmhRequestContext(String helper) {
        this.helper = Objects.requireNonNull(helper, "helper");
    }

    /** @return the helper's name */
    public String helper() {
        return helper;
    }

    /** @return how the request ended ({@link Outcome#UNKNOWN} while it is in flight) */
    public Outcome outcome() {
        return outcome;
    }

    void outcome(Outcome o) {
        outcome = o;
    }
}
