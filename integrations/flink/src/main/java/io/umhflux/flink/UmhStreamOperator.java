package io.umhflux.flink;

import io.umhflux.Blob;
import io.umhflux.HelperFailedException;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import io.umhflux.UmhSink;
import io.umhflux.UmhSpec;
import java.util.Queue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.function.ThrowingRunnable;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Sinks;
import reactor.util.concurrent.Queues;

/**
 * One streaming helper per subtask: every element goes to its stdin through a {@link UmhSink}, everything it writes
 * to stdout goes downstream, end of input closes its stdin, and the operator finishes once the helper's output was
 * drained and it exited 0.
 *
 * <p>Threading: Flink calls this on the task thread. The helper's output arrives on its event loop; it is queued
 * (at most {@link #PREFETCH} messages: more are asked for only as the task thread emits them) and a mail tells the
 * task thread to emit it. When the helper's stdin is full, the task thread does not block: it yields to its
 * mailbox, emitting output meanwhile, until the sink has room (a helper that must write before it reads again would
 * otherwise never get to read), so the helper's pace is the job's.
 */
final class UmhStreamOperator<I, O> extends AbstractStreamOperator<O>
        implements OneInputStreamOperator<I, O>, BoundedOneInput {
    private static final long serialVersionUID = 1L;
    /** Output messages asked of the helper ahead of their emission. */
    static final int PREFETCH = 4096;
    /**
     * The stage's high-water mark of stdin, unless the helper's codec function sets one: four times the library's
     * default, so that the sink asks for up to 16,384 small elements at once and the task thread waits for room
     * less often.
     */
    static final long HIGH_WATER_MARK = 1024 * 1024;

    private final UmhHelper<I, O> helper;
    private final transient MailboxExecutor mailbox;
    private transient HelperRegistry.@Nullable Lease<Blob> blob;
    private transient @Nullable Umh<O, I> umh;
    private transient @Nullable UmhSink<I> sink;
    private transient @Nullable HelperOutput outputs;
    /** Elements accepted by the helper's sink; on the task thread. */
    private transient long sent;
    /** Copies each element when the job reuses objects: the sink holds an element until the loop encodes it. */
    private transient org.apache.flink.api.common.typeutils.@Nullable TypeSerializer<I> copier;

    UmhStreamOperator(StreamOperatorParameters<O> parameters, UmhHelper<I, O> helper) {
        super(parameters);
        this.helper = helper;
        this.mailbox = parameters.getMailboxExecutor();
    }

    @Override
    public void open() throws Exception {
        super.open();
        ClassLoader job = getUserCodeClassloader();
        getRuntimeContext().registerUserCodeClassLoaderReleaseHookIfAbsent("umh-flux helpers",
                () -> HelperRegistry.release(job));
        if (getExecutionConfig().isObjectReuseEnabled()) {
            copier = getOperatorConfig().getTypeSerializerIn(0, getUserCodeClassloader());
        }
        HelperRegistry.Lease<Blob> b = HelperRegistry.acquireBlob(helper, job);
        blob = b;
        Umh<O, I> u = spawnSpec(helper, b.get()).spawn();
        umh = u;
        sink = u.outbound().sink();
        HelperOutput o = new HelperOutput();
        outputs = o;
        u.inbound().subscribe(o);
    }

    /**
     * The spec this stage spawns {@code helper} from: the stage's {@link #HIGH_WATER_MARK} first, then the helper's
     * codec function, so that a mark the function sets is the one that holds.
     */
    static <I, O> UmhSpec<O, I> spawnSpec(UmhHelper<I, O> helper, Blob blob) {
        return helper.spec(UmhFlux.spec(blob).highWaterMark(HIGH_WATER_MARK));
    }

    @Override
    public void processElement(StreamRecord<I> element) throws Exception {
        UmhSink<I> s = java.util.Objects.requireNonNull(sink);
        HelperOutput o = java.util.Objects.requireNonNull(outputs);
        // with object reuse, the upstream may change the object once this returns: the sink keeps a copy
        I value = copier == null ? element.getValue() : copier.copy(element.getValue());
        Sinks.EmitResult r = s.tryEmit(value);
        if (r == Sinks.EmitResult.OK) {
            sent++;
            return;
        }
        if (r != Sinks.EmitResult.FAIL_OVERFLOW) {
            throw ended(o, null);
        }
        // no room: wait for it in the mailbox, emitting the helper's output meanwhile
        AtomicBoolean accepted = new AtomicBoolean();
        Throwable[] refused = new Throwable[1];
        s.emit(value).subscribe(null,
                e -> toTask(() -> refused[0] = e, "umh-flux input refused"),
                () -> toTask(() -> accepted.set(true), "umh-flux input accepted"));
        while (!accepted.get() && refused[0] == null) {
            mailbox.yield();
        }
        if (refused[0] != null) {
            throw ended(o, refused[0]);
        }
        sent++;
    }

    /**
     * For a helper that answers each message ({@link UmhHelper#answersEach()}): the barrier waits, in the mailbox,
     * until every element sent so far was answered and its answer emitted, so that none is inside the helper at the
     * checkpoint (the elements after it are replayed on a restore, and their answers come again).
     */
    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        HelperOutput o = outputs;
        if (!helper.answersEachMessage() || o == null) {
            return;
        }
        while (o.emitted < sent && !o.ended()) { // answers may still wait for their mail after the end
            mailbox.yield();
        }
        o.rethrowFailure();
        if (o.emitted < sent) {
            throw new IllegalStateException("helper '" + helper.name() + "' ended after answering " + o.emitted
                    + " of " + sent + " messages, though its definition says it answers each");
        }
    }

    /**
     * The sink takes no more input: the helper ended or stopped reading, or a message could not be encoded. Its
     * stdout tells how the helper ended (a {@code HelperFailedException} with the exit status, once that is known),
     * the sink's end why the writing stopped: waits for both in the mailbox.
     */
    private Exception ended(HelperOutput o, @Nullable Throwable refusal) throws Exception {
        InputEnd end = refusal != null ? InputEnd.failed(refusal) : watchInputEnd();
        while (!o.done || !end.known) {
            mailbox.yield();
        }
        o.rethrowFailure();
        return new IllegalStateException("helper '" + helper.name() + "' takes no more input"
                + (end.why != null ? ": " + end.why : ""), end.why);
    }

    /** The end of the sink's writing ({@link UmhSink#done()}), told to the task thread through its mailbox. */
    private InputEnd watchInputEnd() {
        InputEnd end = new InputEnd();
        java.util.Objects.requireNonNull(sink).done().subscribe(null,
                e -> toTask(() -> {
                    end.why = e;
                    end.known = true;
                }, "umh-flux input ended"),
                () -> toTask(() -> end.known = true, "umh-flux input ended"));
        return end;
    }

    /**
     * Every element accepted was written and stdin closed, the helper's output is emitted, and it exited 0. A message
     * the codec refused after {@code tryEmit} took it, or a helper that stopped reading, fails the task here, even
     * when the helper then exited 0: an element it never got is not dropped in silence.
     */
    @Override
    public void endInput() throws Exception {
        java.util.Objects.requireNonNull(sink).complete();
        InputEnd end = watchInputEnd();
        HelperOutput o = java.util.Objects.requireNonNull(outputs);
        while (!o.ended() || !end.known) {
            mailbox.yield();
        }
        o.rethrowFailure(); // the inbound completes only after the helper exited 0
        if (end.why != null) {
            throw new IllegalStateException("helper '" + helper.name() + "' did not get every element: "
                    + end.why, end.why);
        }
    }

    /** How the sink's writing ended; on the task thread. */
    private static final class InputEnd {
        boolean known;
        @Nullable Throwable why;

        static InputEnd failed(Throwable why) {
            InputEnd end = new InputEnd();
            end.why = why;
            end.known = true;
            return end;
        }
    }

    @Override
    public void close() throws Exception {
        try {
            Umh<O, I> u = umh;
            umh = null;
            if (u != null) {
                u.dispose(); // nothing when it exited; otherwise a stop that kills its process group
            }
            HelperOutput o = outputs;
            if (o != null) {
                o.dispose();
            }
        } finally {
            HelperRegistry.Lease<Blob> b = blob;
            blob = null;
            if (b != null) {
                b.release();
            }
            super.close();
        }
    }

    /**
     * Hands {@code mail} to the task thread (from a helper's event loop), unless the task has ended: its mailbox then
     * refuses the mail with a {@code RejectedExecutionException}, and no one is left to take the output or the
     * signal. Thrown on, the refusal would reach Reactor's dropped-error hook as an error.
     */
    private void toTask(ThrowingRunnable<? extends Exception> mail, String description) {
        try {
            mailbox.execute(mail, description);
        } catch (RejectedExecutionException taskEnded) {
            // the task's operators are closed
        }
    }

    /** The helper's stdout, handed to the task thread through its mailbox. */
    private final class HelperOutput extends BaseSubscriber<O> {
        /** One producer (the helper's event loop), one consumer (the task thread), at most {@link #PREFETCH}. */
        private final Queue<O> queue = Queues.<O>get(PREFETCH).get();
        private final AtomicBoolean mailPending = new AtomicBoolean();
        /** Emitted and not yet asked for again; on the task thread. */
        private int unrequested;
        private volatile boolean done;
        private volatile @Nullable Throwable failure;
        /** Outputs emitted downstream; on the task thread. */
        long emitted;

        @Override
        protected void hookOnSubscribe(Subscription subscription) {
            request(PREFETCH);
        }

        @Override
        protected void hookOnNext(O value) {
            if (!queue.offer(value)) { // never: no more than PREFETCH are asked for ahead of their emission
                throw new IllegalStateException("helper '" + helper.name() + "' sent more than was asked for");
            }
            tell();
        }

        @Override
        protected void hookOnComplete() {
            done = true;
            tell();
        }

        @Override
        protected void hookOnError(Throwable error) {
            failure = error;
            done = true;
            tell();
        }

        private void tell() {
            if (!mailPending.get() && mailPending.compareAndSet(false, true)) {
                toTask(this::emit, "umh-flux output");
            }
        }

        /**
         * On the task thread: emits what came, and asks for as many more once half the prefetch was emitted (each
         * request is a task for the helper's event loop: asking in halves keeps them few).
         */
        private void emit() throws Exception {
            mailPending.set(false);
            int n = 0;
            for (O value; (value = queue.poll()) != null; n++) {
                output.collect(new StreamRecord<>(value));
            }
            emitted += n;
            unrequested += n;
            if (unrequested >= PREFETCH / 2 && !done) {
                request(unrequested);
                unrequested = 0;
            }
            rethrowFailure();
        }

        boolean ended() {
            return done && queue.isEmpty();
        }

        void rethrowFailure() throws Exception {
            Throwable f = failure;
            if (f instanceof HelperFailedException) {
                throw (HelperFailedException) f;
            }
            if (f instanceof Exception) {
                throw (Exception) f;
            }
            if (f != null) {
                throw new IllegalStateException("helper '" + helper.name() + "' failed", f);
            }
        }
    }
}
