package io.umhflux.codec.kryo;

/** A Java helper built with the SDK: doubles each point; "crash" on (-1, -1) by throwing. */
public final class DoublingHelperMain {
    private DoublingHelperMain() {
    }

    public static void main(String[] args) {
        KryoHelper.serve(Point.class, Messages::register, p -> {
            if (p.x() == -1 && p.y() == -1) {
                throw new IllegalStateException("poison point");
            }
            return new Point(p.x() * 2, p.y() * 2);
        });
    }
}
