package io.umhflux.test;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty reports a leaked {@code ByteBuf} (the leak detector runs at PARANOID: every
 * buffer is tracked). Registered for every test class through JUnit's extension autodetection, so it is in
 * place before the first buffer is allocated.
 */
public final class LeakDetectionExtension implements AfterAllCallback {
    static final List<String> LEAKS = new CopyOnWriteArrayList<>();

    static {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new ResourceLeakDetectorFactory() {
            @Override
            @SuppressWarnings("deprecation")
            public <T> ResourceLeakDetector<T> newResourceLeakDetector(Class<T> resource, int samplingInterval,
                    long maxActive) {
                return new ResourceLeakDetector<>(resource, samplingInterval) {
                    @Override
                    protected void reportTracedLeak(String resourceType, String records) {
                        LEAKS.add(resourceType + " leaked:" + records);
                    }

                    @Override
                    protected void reportUntracedLeak(String resourceType) {
                        LEAKS.add(resourceType + " leaked");
                    }
                };
            }
        });
    }

    @Override
    public void afterAll(ExtensionContext context) {
        // leaks are reported when a collected buffer's tracker is polled, which allocation does
        for (int round = 0; round < 3; round++) {
            System.gc();
            for (int i = 0; i < 64; i++) {
                ByteBuf b = ByteBufAllocator.DEFAULT.directBuffer(16);
                b.release();
            }
        }
        List<String> leaks = List.copyOf(LEAKS);
        LEAKS.clear();
        assertThat(leaks).as("ByteBuf leaks reported by Netty during %s", context.getDisplayName()).isEmpty();
    }
}
