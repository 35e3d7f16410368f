/**
 * umh-flux: run an executable from its own bytes as a helper process and talk to it through reactive,
 * backpressured streams.
 *
 * <p>{@code io.umhflux} and {@code io.umhflux.codec} are the API; everything under {@code io.umhflux.internal}
 * is machinery that may change in any release. (The jnr-ffi binding of the C library, {@code internal.os.jnr},
 * is exported too, because jnr-ffi generates its implementation in an unnamed module at run time.) On the module
 * path, run with {@code --add-modules ALL-MODULE-PATH}: Netty's native epoll jar and jnr-ffi's ASM are found only
 * by reflection, so nothing else makes the module system resolve them.
 */
module io.umhflux {
    requires transitive reactor.core;
    requires reactor.pool;
    requires transitive org.reactivestreams;
    requires io.netty.common;
    requires transitive io.netty.buffer;
    requires transitive io.netty.transport;
    requires io.netty.codec;
    requires io.netty.transport.unix.common;
    requires io.netty.transport.classes.epoll;
    requires transitive org.jnrproject.ffi;
    requires org.jnrproject.posix;
    requires org.jnrproject.constants;
    requires org.slf4j;
    requires static transitive org.jspecify;

    exports io.umhflux;
    exports io.umhflux.codec;

    // jnr-ffi implements the native interface in a class of its own class loader (an unnamed module), which
    // must see the interface: a qualified export cannot name an unnamed module, so this internal package is
    // exported to all. It holds that one interface; nothing in it is API.
    exports io.umhflux.internal.os.jnr;
}
