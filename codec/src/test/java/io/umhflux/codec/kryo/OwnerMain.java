package io.umhflux.codec.kryo;

import io.umhflux.Blob;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import io.umhflux.codec.Framing;

/** Run in a child JVM: spawns the SDK helper, prints its pid, waits to be killed. */
public final class OwnerMain {
    private OwnerMain() {
    }

    public static void main(String[] args) throws Exception {
        Blob helper = Blob.javaMain(DoublingHelperMain.class);
        KryoCodec<Point> codec = KryoCodec.of(Point.class, Messages::register);
        Umh<Point, Point> umh = UmhFlux.spec(helper).codec(Framing.lengthPrefixed(1 << 20), codec, codec).spawn();
        System.out.println(umh.pid());
        System.out.flush();
        Thread.sleep(600_000);
    }
}
