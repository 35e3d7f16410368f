package io.umhflux.examples;

import io.umhflux.Blob;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import io.umhflux.codec.Framing;
import io.umhflux.codec.kryo.KryoCodec;
import io.umhflux.codec.kryo.KryoHelper;
import java.util.List;
import reactor.core.publisher.Flux;

/**
 * Typed messages through a Java helper: this class is both the owner (it spawns itself as a helper process)
 * and, in that process, the helper (its {@link Helper#main}). Kryo records travel as length-prefixed frames.
 */
public final class TypedPipeline {
    /** A request. */
    public record Order(long id, String item, int quantity) {
    }

    /** A reply. */
    public record Priced(long id, long cents) {
    }

    private TypedPipeline() {
    }

    /** Registrations with stable ids: the same on both sides of the pipe. */
    static void register(com.esotericsoftware.kryo.Kryo kryo) {
        kryo.register(Order.class, 20);
        kryo.register(Priced.class, 21);
    }

    /** The helper process: prices each order, exits at end of input. */
    public static final class Helper {
        private Helper() {
        }

        public static void main(String[] args) {
            KryoHelper.serve(Order.class, TypedPipeline::register,
                    order -> new Priced(order.id(), 250L * order.quantity()));
        }
    }

    /** Prices {@code orders} in a crash-isolated helper JVM. */
    public static List<Priced> price(List<Order> orders) {
        try (Blob helper = Blob.javaMain(Helper.class)) {               // "this main class on this JVM"
            KryoCodec<Object> kryo = KryoCodec.of(Object.class, TypedPipeline::register);
            Umh<Object, Object> umh = UmhFlux.spec(helper)
                    .codec(Framing.lengthPrefixed(1 << 20), kryo, kryo)  // one Kryo per direction per helper
                    .spawn();
            umh.outbound().send(Flux.fromIterable(orders)).subscribe(null, e -> { }); // failures end the inbound
            return umh.inbound().cast(Priced.class).collectList().block();
        }
    }

    public static void main(String[] args) {
        System.out.println(price(List.of(new Order(1, "bolts", 4), new Order(2, "nuts", 10))));
    }
}
