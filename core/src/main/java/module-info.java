/**
 * umh-flux: run an executable from its own bytes as a helper process and talk to it through reactive,
 * backpressured streams.
 *
 * <p>Only {@code io.umhflux} is exported; everything under {@code io.umhflux.internal} is machinery that
 * may change in any release. The internal native interface is opened to jnr-ffi, which generates its
 * implementation at run time.
 */
module io.umhflux {
    requires transitive reactor.core;
    requires transitive org.reactivestreams;
    requires io.netty.common;
    requires transitive io.netty.buffer;
    requires transitive io.netty.transport;
    requires io.netty.codec;
    requires io.netty.transport.unix.common;
    requires io.netty.transport.classes.epoll;
    requires org.jnrproject.ffi;
    requires org.jnrproject.posix;
    requires org.jnrproject.constants;
    requires org.slf4j;
    requires static transitive org.jspecify;

    exports io.umhflux;
    exports io.umhflux.codec;

    opens io.umhflux.internal.os to org.jnrproject.ffi;
}
