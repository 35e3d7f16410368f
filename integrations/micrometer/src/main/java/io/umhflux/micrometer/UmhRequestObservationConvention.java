package io.umhflux.micrometer;

import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationConvention;

/** Names and tags the observation of a request to a helper; see {@link DefaultUmhRequestObservationConvention}. */
public interface UmhRequestObservationConvention extends ObservationConvention<UmhRequestContext> {
    @Override
    default boolean supportsContext(Observation.Context context) {
        return context instanceof UmhRequestContext;
    }
}
