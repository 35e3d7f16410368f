package io.umhflux.micrometer;

import io.micrometer.common.KeyValues;
import java.util.Locale;

/**
 * The observation {@code umh.request}, contextually named {@code umh <helper>}, with the low-cardinality keys
 * {@code helper} (the helper's name, as {@link MicrometerMetrics} tags its meters) and {@code outcome}
 * ({@code answered}, {@code failed}, {@code cancelled}); a failure's exception is the observation's error.
 * Extend it to add keys.
 */
public class DefaultUmhRequestObservationConvention implements UmhRequestObservationConvention {
    /** The shared instance. */
    public static final DefaultUmhRequestObservationConvention INSTANCE = new DefaultUmhRequestObservationConvention();

    /** Subclasses add keys. */
    protected DefaultUmhRequestObservationConvention() {
    }

    @Override
    public String getName() {
        return "umh.request";
    }

    @Override
    public String getContextualName(UmhRequestContext context) {
        return "umh " + context.helper();
    }

    @Override
    public KeyValues getLowCardinalityKeyValues(UmhRequestContext context) {
        return KeyValues.of("helper", context.helper(),
                "outcome", context.outcome().name().toLowerCase(Locale.ROOT));
    }
}
