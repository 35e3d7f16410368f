package io.umhflux.spring.boot;

import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandle;
import io.umhflux.UmhClient;
import io.umhflux.UmhMetrics;
import io.umhflux.micrometer.MicrometerMetrics;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.client.ReactorResourceFactory;

/**
 * Helpers from {@code umh.helpers.*} ({@link UmhProperties}): the {@link UmhHelpers} registry, a
 * {@code UmhClient} bean per helper, the helpers' meters in the application's {@code MeterRegistry}, and a
 * health contributor {@code umh} with an indicator per helper.
 */
@AutoConfiguration(afterName = {
        // the ReactorResourceFactory of the web server, whose event loops the helpers share
        "org.springframework.boot.reactor.netty.autoconfigure.NettyReactiveWebServerAutoConfiguration",
        "org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration",
        "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
        "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
        "org.springframework.boot.micrometer.observation.autoconfigure.ObservationAutoConfiguration"})
@EnableConfigurationProperties(UmhProperties.class)
public class UmhAutoConfiguration {
    /** A client bean per helper. */
    @Bean
    static UmhClientBeans umhClientBeans() {
        return new UmhClientBeans();
    }

    /** The registry of the helpers, unless the application has its own. */
    @Bean(destroyMethod = "destroy")
    @ConditionalOnMissingBean
    UmhHelpers umhHelpers(UmhProperties properties, BeanFactory beans, ObjectProvider<UmhMetrics> metrics,
            ObjectProvider<ServerLoops> serverLoops, ObjectProvider<JsonMapperSource> json,
            ObjectProvider<ClientDecorator> decorator) {
        ServerLoops loops = serverLoops.getIfAvailable();
        JsonMapperSource mapper = json.getIfAvailable();
        ClientDecorator d = decorator.getIfAvailable();
        return new UmhHelpers(properties, new UmhHelpers.Context(metrics.getIfAvailable(UmhMetrics::none),
                loops == null ? null : loops::group, name -> beans.containsBean(name) ? beans.getBean(name) : null,
                mapper == null ? null : mapper.mapper(), d == null ? (name, client) -> client : d::decorate));
    }

    /**
     * The web server's event loops, where reactor-netty's are epoll loops. Looked up each time: a stopped and started
     * context (a checkpoint and restore, say) disposes of the old ones and makes new ones.
     */
    record ServerLoops(ReactorResourceFactory resources) {
        /** The server's loops now; null when they are not epoll loops, or are shutting down or gone. */
        @Nullable IoEventLoopGroup group() {
            Object group;
            try {
                group = resources.getLoopResources().onServer(true);
            } catch (RuntimeException stopped) {
                return null; // the factory was stopped and not started again: umh-flux's own loops
            }
            return group instanceof IoEventLoopGroup io && io.isCompatible(EpollIoHandle.class) && !io.isShuttingDown()
                    ? io : null;
        }
    }

    /** Boot's {@code JsonMapper}. */
    record JsonMapperSource(Object mapper) {
    }

    /** Wraps each client (in an observation per request). */
    interface ClientDecorator {
        UmhClient<?, ?> decorate(String helper, UmhClient<?, ?> client);
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(ReactorResourceFactory.class)
    static class ServerLoopsConfiguration {
        @Bean
        @ConditionalOnBean(ReactorResourceFactory.class)
        ServerLoops umhServerLoops(ReactorResourceFactory resources) {
            return new ServerLoops(resources);
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "tools.jackson.databind.json.JsonMapper")
    static class JsonConfiguration {
        @Bean
        @ConditionalOnBean(type = "tools.jackson.databind.json.JsonMapper")
        JsonMapperSource umhJsonMapper(BeanFactory beans) {
            return new JsonMapperSource(beans.getBean(tools.jackson.databind.json.JsonMapper.class));
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass({MeterRegistry.class, MicrometerMetrics.class})
    static class MetricsConfiguration {
        /** The helpers' meters in the application's registry, unless it has its own {@code UmhMetrics}. */
        @Bean
        @ConditionalOnBean(MeterRegistry.class)
        @ConditionalOnMissingBean(UmhMetrics.class)
        MicrometerMetrics umhMetrics(MeterRegistry registry) {
            return new MicrometerMetrics(registry);
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = {"io.micrometer.observation.ObservationRegistry",
            "io.umhflux.micrometer.UmhObservations"})
    static class ObservationConfiguration {
        /** An observation per request, in the application's {@code ObservationRegistry}. */
        @Bean
        @ConditionalOnBean(type = "io.micrometer.observation.ObservationRegistry")
        ClientDecorator umhObservations(BeanFactory beans) {
            io.micrometer.observation.ObservationRegistry registry =
                    beans.getBean(io.micrometer.observation.ObservationRegistry.class);
            return (helper, client) -> observe(helper, client, registry);
        }

        private static <I, O> UmhClient<I, O> observe(String helper, UmhClient<I, O> client,
                io.micrometer.observation.ObservationRegistry registry) {
            return io.umhflux.micrometer.UmhObservations.observe(client, helper, registry);
        }
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(HealthIndicator.class)
    @ConditionalOnEnabledHealthIndicator("umh")
    static class HealthConfiguration {
        /** {@code umh} in the health endpoint, with a component per helper. */
        @Bean
        @ConditionalOnMissingBean(name = "umhHealthContributor")
        CompositeHealthContributor umhHealthContributor(UmhHelpers helpers) {
            Map<String, HealthIndicator> byName = new LinkedHashMap<>();
            for (String name : helpers.names()) {
                byName.put(name, new UmhHealthIndicator(helpers, name));
            }
            return CompositeHealthContributor.fromMap(byName);
        }
    }
}
