package io.umhflux.spring.boot;

import io.umhflux.ExitStatus;
import io.umhflux.RestartsExhaustedException;
import io.umhflux.SpawnException;
import io.umhflux.UmhClient;
import io.umhflux.UmhEvent;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The client a bean stands for: the real one is made at once (eager) or at the first request (lazy; made again
 * at the next request when that failed), and its helpers' events are followed for the health.
 */
final class ManagedClient<I, O> implements UmhClient<I, O> {
    private final String name;
    private final Supplier<UmhClient<I, O>> factory;
    /** Whether the client ends with its helper (a single helper's client is done then). */
    private final boolean endsWithHelper;
    private final Object lock = new Object();
    private volatile @Nullable UmhClient<I, O> client;
    private @Nullable Disposable watching;
    private volatile boolean closed;

    private final Set<Long> live = ConcurrentHashMap.newKeySet();
    private volatile @Nullable ExitStatus lastExit;
    /** The last helper ended other than by a stop that was asked for. */
    private volatile boolean lastExitFailed;
    /** Why no helper can serve now: a spawn that failed, or a supervised client that gave up. */
    private volatile @Nullable Throwable failure;
    /** The failure is for good: the client gave up, or its single helper ended. */
    private volatile boolean terminal;

    ManagedClient(String name, Supplier<UmhClient<I, O>> factory, boolean endsWithHelper) {
        this.name = name;
        this.factory = factory;
        this.endsWithHelper = endsWithHelper;
    }

    /** Makes the real client now; a failure is thrown (and recorded for the health). */
    UmhClient<I, O> client() {
        UmhClient<I, O> c = client;
        if (c != null) {
            return c;
        }
        synchronized (lock) {
            c = client;
            if (c != null) {
                return c;
            }
            if (closed) {
                throw new IllegalStateException("the helper '" + name + "' was stopped with the application");
            }
            try {
                c = factory.get();
            } catch (RuntimeException e) {
                failure = e;
                throw e;
            }
            failure = null;
            watching = c.events().subscribe(this::onEvent, e -> { });
            client = c;
            return c;
        }
    }

    private void onEvent(UmhEvent event) {
        if (event instanceof UmhEvent.Started started) {
            live.add(started.pid());
            if (!terminal) {
                failure = null;
            }
        } else if (event instanceof UmhEvent.Exited exited) {
            live.remove(exited.pid());
            lastExit = exited.status();
            // a helper asked to stop (an idle one a pool let go, a close) did not crash, whatever its status
            lastExitFailed = !closed && !exited.stopped() && !exited.status().isSuccess();
            if (endsWithHelper && !closed && !exited.stopped()) {
                terminal = true;
                failure = new IllegalStateException("its one helper ended (" + exited.status().summary()
                        + "): a single client does not start another");
            }
        } else if (event instanceof UmhEvent.GaveUp gaveUp) {
            terminal = true;
            failure = gaveUp.cause();
        }
    }

    private void onError(Throwable e) {
        if (e instanceof SpawnException || e instanceof RestartsExhaustedException) {
            failure = e;
            terminal |= e instanceof RestartsExhaustedException;
        }
    }

    @Override
    public Mono<I> exchange(O request) {
        return Mono.defer(() -> client().exchange(request)).doOnError(this::onError);
    }

    @Override
    public int inFlight() {
        UmhClient<I, O> c = client;
        return c == null ? 0 : c.inFlight();
    }

    @Override
    public Flux<UmhEvent> events() {
        return Mono.fromSupplier(this::client).flatMapMany(UmhClient::events);
    }

    @Override
    public Mono<Void> close() {
        return Mono.defer(() -> {
            UmhClient<I, O> c;
            synchronized (lock) {
                closed = true;
                c = client;
            }
            return c == null ? Mono.empty() : c.close();
        });
    }

    @Override
    public void dispose() {
        UmhClient<I, O> c;
        synchronized (lock) {
            closed = true;
            c = client;
        }
        if (c != null) {
            c.dispose();
        }
    }

    @Override
    public boolean isDisposed() {
        UmhClient<I, O> c = client;
        return closed && (c == null || c.isDisposed());
    }

    /** After a close: the next request (or {@link #client()}) makes a new client, as at the first start. */
    void reopen() {
        forget();
        synchronized (lock) {
            client = null;
            closed = false;
            live.clear();
            failure = null;
            terminal = false;
            lastExitFailed = false;
        }
    }

    /** Stops following the events, once the client was closed. */
    void forget() {
        Disposable w;
        synchronized (lock) {
            w = watching;
            watching = null;
        }
        if (w != null) {
            w.dispose();
        }
    }

    /** @return what the health shows now */
    UmhHelpers.HelperState state() {
        Throwable f = failure;
        ExitStatus exit = lastExit;
        boolean started = client != null;
        boolean up = f == null && !(lastExitFailed && live.isEmpty());
        String state = f != null ? (terminal ? "failed" : "cannot start")
                : !started ? "not started"
                : !live.isEmpty() ? "running"
                : lastExitFailed ? "crashed" : "idle";
        return new UmhHelpers.HelperState(name, up, state, Set.copyOf(live), exit, f);
    }

    @Override
    public String toString() {
        return "UmhClient '" + name + "'";
    }
}
