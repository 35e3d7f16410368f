package io.umhflux.internal.supervise;

import io.umhflux.UmhEvent;
import io.umhflux.UmhMetrics;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/** A client's hot event stream, fed from any thread, and the metrics hooks that go with the events. */
final class Events {
    /** How many past events a new subscriber is told first. */
    static final int HISTORY = 16;
    /** Hot, with the last events for whoever subscribes late (a client starts its first helper at once). */
    private final Sinks.Many<UmhEvent> sink = Sinks.many().replay().limit(HISTORY);
    private final UmhMetrics metrics;

    Events(UmhMetrics metrics) {
        this.metrics = metrics;
    }

    UmhMetrics metrics() {
        return metrics;
    }

    Flux<UmhEvent> flux() {
        return sink.asFlux();
    }

    void emit(UmhEvent event) {
        synchronized (sink) { // events come from several loops; the sink wants them one at a time
            sink.tryEmitNext(event);
        }
    }

    void complete() {
        synchronized (sink) {
            sink.tryEmitComplete();
        }
    }
}
