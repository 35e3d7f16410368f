import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.umhflux.Blob;
import io.umhflux.Umh;
import io.umhflux.UmhFlux;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import reactor.core.publisher.Flux;

/** Run by ModulePathTest with the java source launcher, core on the module path as module io.umhflux. */
public class ModulePathMain {
    public static void main(String[] args) {
        System.out.println(UmhFlux.class.getModule());
        try (Blob cat = Blob.of(Path.of("/bin/cat"))) {
            Umh<ByteBuf, ByteBuf> umh = UmhFlux.spawn(cat);
            umh.outbound().send(Flux.just(Unpooled.copiedBuffer("echo on the module path", StandardCharsets.UTF_8)))
                    .subscribe();
            System.out.println(umh.inbound().map(b -> b.toString(StandardCharsets.UTF_8)).reduce("", String::concat)
                    .block());
        }
    }
}
