package io.umhflux.internal.supervise;

import io.umhflux.UmhEvent;
import io.umhflux.UmhMetrics;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/** A client's hot event stream, fed from any thread, and the metrics hooks that go with the events. */
final class Events {
    private final Sinks.Many<UmhEvent> sink = Sinks.many().multicast().directBestEffort();
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
        if (event instanceof UmhEvent.Restarting) {
            metrics.restarted(event.helper());
        }
        synchronized (sink) { // events come from several loops; the sink wants them one at a time
            sink.tryEmitNext(event); // no subscriber, or a slow one: the event is dropped, by design
        }
    }

    void complete() {
        synchronized (sink) {
            sink.tryEmitComplete();
        }
    }
}
