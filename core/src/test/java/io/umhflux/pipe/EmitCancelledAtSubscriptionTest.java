package io.umhflux.pipe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.umhflux.Blob;
import io.umhflux.TestHelpers;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import io.umhflux.UmhSink;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Hooks;
import reactor.core.publisher.Sinks.EmitResult;

/** An emit whose subscriber cancels before the emit's callback ran (cancel in onSubscribe). */
class EmitCancelledAtSubscriptionTest {
    private final List<Throwable> dropped = new CopyOnWriteArrayList<>();

    @AfterEach
    void resetHooks() {
        Hooks.resetOnErrorDropped();
    }

    private static final class CancelAtOnce extends BaseSubscriber<Void> {
        @Override
        protected void hookOnSubscribe(Subscription s) {
            s.cancel();
        }
    }

    /** A cancelled emit is withdrawn, says UmhSink.emit: it must not reach the helper. */
    @Test
    void anEmitCancelledAtSubscriptionIsNotWritten() throws Exception {
        try (Blob cat = TestHelpers.cat()) {
            Umh<String, String> umh = UmhFlux.spec(cat).lines(64).spawn();
            UmhSink<String> sink = umh.outbound().sink();
            CompletableFuture<List<String>> out = umh.inbound().collectList().toFuture();
            await().atMost(TestHelpers.TIMEOUT).until(() -> sink.tryEmit("first") == EmitResult.OK);
            sink.emit("withdrawn").subscribe(new CancelAtOnce());
            assertThat(sink.complete()).isEqualTo(EmitResult.OK);
            sink.done().block(TestHelpers.TIMEOUT);
            assertThat(out.get(20, TimeUnit.SECONDS)).containsExactly("first");
        }
    }

    /** The same with a reference-counted message: released once by the withdraw, and never written. */
    @Test
    void aByteBufEmitCancelledAtSubscriptionIsReleasedOnceAndNotWritten() throws Exception {
        Hooks.onErrorDropped(dropped::add);
        try (Blob cat = TestHelpers.cat()) {
            Umh<ByteBuf, ByteBuf> umh = UmhFlux.spec(cat).spawn();
            UmhSink<ByteBuf> sink = umh.outbound().sink();
            StringBuilder text = new StringBuilder();
            CompletableFuture<Void> out = umh.inbound()
                    .doOnNext(b -> text.append(b.toString(StandardCharsets.UTF_8))).then().toFuture();
            await().atMost(TestHelpers.TIMEOUT).until(() -> {
                ByteBuf first = ByteBufAllocator.DEFAULT.heapBuffer().writeBytes("first\n".getBytes());
                if (sink.tryEmit(first) == EmitResult.OK) {
                    return true;
                }
                first.release();
                return false;
            });
            ByteBuf withdrawn = ByteBufAllocator.DEFAULT.heapBuffer().writeBytes("withdrawn\n".getBytes());
            sink.emit(withdrawn).subscribe(new CancelAtOnce());
            assertThat(withdrawn.refCnt()).isZero();
            assertThat(sink.complete()).isEqualTo(EmitResult.OK);
            Throwable end = sink.done().materialize().block(TestHelpers.TIMEOUT).getThrowable();
            out.get(20, TimeUnit.SECONDS);
            assertThat(end).as("the send's end").isNull();
            assertThat(text.toString()).isEqualTo("first\n");
            assertThat(dropped).as("errors dropped to Reactor's hook").isEmpty();
        }
    }

    /** After complete(), a refused emit cancelled at subscription is released once, and no error is dropped. */
    @Test
    void aRefusedEmitCancelledAtSubscriptionIsReleasedOnce() throws Exception {
        Hooks.onErrorDropped(dropped::add);
        try (Blob cat = TestHelpers.cat()) {
            Umh<ByteBuf, ByteBuf> umh = UmhFlux.spec(cat).spawn();
            UmhSink<ByteBuf> sink = umh.outbound().sink();
            umh.inbound().subscribe(b -> { }, e -> { });
            assertThat(sink.complete()).isEqualTo(EmitResult.OK);
            ByteBuf late = ByteBufAllocator.DEFAULT.heapBuffer().writeBytes("late\n".getBytes());
            sink.emit(late).subscribe(new CancelAtOnce());
            assertThat(late.refCnt()).isZero();
            assertThat(dropped).as("errors dropped to Reactor's hook").isEmpty();
            umh.exit().block(TestHelpers.TIMEOUT);
        }
    }
}
