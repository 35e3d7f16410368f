package io.umhflux.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.esotericsoftware.kryo.Kryo;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.umhflux.UmhClient;
import io.umhflux.UmhMetrics;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.health.contributor.CompositeHealthContributor;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.client.ReactorResourceFactory;
import reactor.core.publisher.Flux;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class UmhAutoConfigurationTest {
    static final Duration TIMEOUT = Duration.ofSeconds(20);

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(UmhAutoConfiguration.class));

    /** An application bean that injects a helper's client by its name. */
    record Uses(UmhClient<String, String> echo) {
    }

    @Configuration(proxyBeanMethods = false)
    static class InjectingConfig {
        @Bean
        Uses uses(@Qualifier("echo") UmhClient<String, String> echo) {
            return new Uses(echo);
        }
    }

    @Test
    void aHelperIsAClientBeanQualifiedByItsNameAndStopsWithTheContext() {
        List<Long> before = Children.of();
        runner.withUserConfiguration(InjectingConfig.class)
                .withPropertyValues("umh.helpers.echo.blob=file:/bin/cat")
                .run(context -> {
                    assertThat(context).hasNotFailed().hasSingleBean(UmhHelpers.class);
                    UmhClient<String, String> echo = context.getBean(Uses.class).echo();
                    assertThat(echo.exchange("hello").block(TIMEOUT)).isEqualTo("hello");
                    assertThat(context.getBean(UmhHelpers.class).<String, String>client("echo")).isSameAs(echo);
                    assertThat(context.getBean(UmhHelpers.class).blob("echo").name()).isEqualTo("echo");
                    assertThat(Children.of()).as("eager: the supervised helper runs").hasSize(before.size() + 1);
                    assertThatThrownBy(() -> context.getBean(UmhHelpers.class).client("nope"))
                            .hasMessageContaining("no helper 'nope'").hasMessageContaining("[echo]");
                });
        await().atMost(TIMEOUT).until(() -> Children.of().size() == before.size());
    }

    @Test
    void argsEnvironmentTimeoutAndInFlightAreTheHelpersSettings() {
        runner.withPropertyValues(
                "umh.helpers.env.blob=classpath:helpers/env.sh",
                "umh.helpers.env.environment.allow=PATH",
                "umh.helpers.env.environment.variables.GREETING=hi there",
                "umh.helpers.env.max-in-flight=8",
                "umh.helpers.sed.blob=file:/bin/sed",
                "umh.helpers.sed.args=-u,s/a/b/",
                "umh.helpers.sed.client=single",
                "umh.helpers.silent.blob=classpath:helpers/silent.sh",
                "umh.helpers.silent.request-timeout=200ms",
                "umh.helpers.silent.stop-grace=100ms")
                .run(context -> {
                    UmhHelpers helpers = context.getBean(UmhHelpers.class);
                    UmhClient<String, String> env = helpers.client("env");
                    assertThat(Flux.just("GREETING", "PATH", "HOME").flatMapSequential(env::exchange)
                            .collectList().block(TIMEOUT))
                            .containsExactly("hi there", System.getenv("PATH"), "unset");
                    UmhClient<String, String> sed = helpers.client("sed");
                    assertThat(sed.exchange("banana").block(TIMEOUT)).isEqualTo("bbnana");
                    UmhClient<String, String> silent = helpers.client("silent");
                    assertThatThrownBy(() -> silent.exchange("x").block(TIMEOUT))
                            .hasCauseInstanceOf(TimeoutException.class);
                });
    }

    /** Registers what goes through the Kryo helper. */
    static final Consumer<Kryo> REGISTRATIONS = kryo -> kryo.register(Point.class, 20);

    /** A Kryo message. */
    record Point(int x, int y) {
    }

    @Configuration(proxyBeanMethods = false)
    static class KryoConfig {
        @Bean
        Consumer<Kryo> points() {
            return REGISTRATIONS;
        }
    }

    @Test
    void bytesJsonAndKryoCodecsWithTheirFramings() {
        runner.withConfiguration(AutoConfigurations.of(JacksonAutoConfiguration.class))
                .withUserConfiguration(KryoConfig.class)
                .withPropertyValues(
                        "umh.helpers.bytes.blob=file:/bin/cat", "umh.helpers.bytes.codec=bytes",
                        "umh.helpers.varint.blob=file:/bin/cat", "umh.helpers.varint.codec=bytes",
                        "umh.helpers.varint.framing=varint-prefixed", "umh.helpers.varint.max-message-size=64B",
                        "umh.helpers.json.blob=file:/bin/cat", "umh.helpers.json.codec=json",
                        "umh.helpers.kryo.blob=file:/bin/cat", "umh.helpers.kryo.codec=kryo",
                        "umh.helpers.kryo.kryo.registrations=points")
                .run(context -> {
                    UmhHelpers helpers = context.getBean(UmhHelpers.class);
                    byte[] bytes = {0, '\n', 1, 2, (byte) 255};
                    assertThat(helpers.<byte[], byte[]>client("bytes").exchange(bytes).block(TIMEOUT))
                            .isEqualTo(bytes);
                    assertThat(helpers.<byte[], byte[]>client("varint").exchange(bytes).block(TIMEOUT))
                            .isEqualTo(bytes);
                    assertThatThrownBy(() -> helpers.<byte[], byte[]>client("varint").exchange(new byte[65])
                            .block(TIMEOUT)).hasMessageContaining("could not be encoded");
                    JsonNode node = context.getBean(JsonMapper.class).readTree("{\"a\":[1,\"x\\ny\"]}");
                    assertThat(helpers.<JsonNode, JsonNode>client("json").exchange(node).block(TIMEOUT))
                            .isEqualTo(node);
                    assertThat(helpers.<Object, Object>client("kryo").exchange(new Point(3, 4)).block(TIMEOUT))
                            .isEqualTo(new Point(3, 4));
                });
    }

    @Test
    void aPoolStartsItsHelpersAsRequestsComeAndALazyHelperAtItsFirstRequest() {
        List<Long> before = Children.of();
        runner.withPropertyValues(
                "umh.helpers.pooled.blob=file:/bin/cat", "umh.helpers.pooled.client=pool",
                "umh.helpers.pooled.pool.size=3", "umh.helpers.pooled.startup=lazy",
                "umh.helpers.lazy.blob=file:/bin/cat", "umh.helpers.lazy.startup=lazy")
                .run(context -> {
                    UmhHelpers helpers = context.getBean(UmhHelpers.class);
                    assertThat(Children.of()).as("nothing started yet").hasSameSizeAs(before);
                    assertThat(helpers.state("lazy").state()).isEqualTo("not started");
                    assertThat(helpers.<String, String>client("lazy").exchange("x").block(TIMEOUT)).isEqualTo("x");
                    assertThat(Children.of()).hasSize(before.size() + 1);
                    UmhClient<String, String> pooled = helpers.client("pooled");
                    assertThat(Flux.range(0, 30).flatMap(i -> pooled.exchange("r" + i), 6).collectList()
                            .block(TIMEOUT)).hasSize(30);
                    assertThat(Children.of().size() - before.size()).isBetween(2, 4);
                });
        await().atMost(TIMEOUT).until(() -> Children.of().size() == before.size());
    }

    @Test
    void helpersRunOnTheWebServersEventLoopsWhenThereAreSome() {
        runner.withBean(ReactorResourceFactory.class, ReactorResourceFactory::new)
                .withPropertyValues("umh.helpers.echo.blob=file:/bin/cat",
                        "umh.helpers.own.blob=file:/bin/cat", "umh.helpers.own.event-loops=own")
                .run(context -> {
                    UmhHelpers helpers = context.getBean(UmhHelpers.class);
                    String thread = helpers.<String, String>client("echo").exchange("x")
                            .map(x -> Thread.currentThread().getName()).block(TIMEOUT);
                    assertThat(thread).startsWith("reactor-http-epoll");
                    String own = helpers.<String, String>client("own").exchange("x")
                            .map(x -> Thread.currentThread().getName()).block(TIMEOUT);
                    assertThat(own).startsWith("umh-flux");
                });
    }

    @Test
    void theHelpersMetersGoToTheApplicationsRegistry() {
        runner.withBean(MeterRegistry.class, SimpleMeterRegistry::new)
                .withPropertyValues("umh.helpers.echo.blob=file:/bin/cat")
                .run(context -> {
                    assertThat(context).hasSingleBean(UmhMetrics.class);
                    context.getBean(UmhHelpers.class).<String, String>client("echo").exchange("x").block(TIMEOUT);
                    MeterRegistry registry = context.getBean(MeterRegistry.class);
                    assertThat(registry.get("umh.helpers.spawns").tag("helper", "echo").counter().count()).isOne();
                    assertThat(registry.get("umh.requests").tag("outcome", "answered").timer().count()).isOne();
                });
    }

    @Test
    void theApplicationsOwnBeansWin() {
        UmhMetrics mine = UmhMetrics.counting();
        runner.withBean(MeterRegistry.class, SimpleMeterRegistry::new)
                .withBean(UmhMetrics.class, () -> mine)
                .withPropertyValues("umh.helpers.echo.blob=file:/bin/cat")
                .run(context -> {
                    assertThat(context).getBean(UmhMetrics.class).isSameAs(mine);
                    context.getBean(UmhHelpers.class).<String, String>client("echo").exchange("x").block(TIMEOUT);
                    assertThat(((UmhMetrics.Counters) mine).spawns()).isOne();
                });
        runner.withBean("myHelpers", UmhHelpers.class, () -> new UmhHelpers(new UmhProperties(),
                        new UmhHelpers.Context(UmhMetrics.none(), null, n -> null, null, (n, c) -> c)))
                .withPropertyValues("umh.helpers.echo.blob=file:/bin/cat")
                .run(context -> assertThat(context).hasSingleBean(UmhHelpers.class).hasBean("myHelpers"));
    }

    @Test
    void badPropertiesFailTheContextNamingTheProperty() {
        runner.withPropertyValues("umh.helpers.x.blob=classpath:helpers/nope")
                .run(context -> assertThat(context).getFailure().rootCause()
                        .isInstanceOf(InvalidConfigurationPropertyValueException.class)
                        .hasMessageContaining("umh.helpers.x.blob").hasMessageContaining("does not exist"));
        runner.withPropertyValues("umh.helpers.x.blob=file:/bin/cat", "umh.helpers.x.sha256=" + "0".repeat(64))
                .run(context -> assertThat(context).getFailure().rootCause()
                        .hasMessageContaining("umh.helpers.x.sha256").hasMessageContaining("SHA-256 mismatch"));
        runner.withPropertyValues("umh.helpers.x.blob=file:/bin/cat", "umh.helpers.x.codec=yaml")
                .run(context -> assertThat(context).getFailure()
                        .hasStackTraceContaining("umh.helpers.x.codec").hasStackTraceContaining("yaml"));
        runner.withPropertyValues("umh.helpers.x.blob=file:/bin/cat", "umh.helpers.x.codec=kryo")
                .run(context -> assertThat(context).getFailure().rootCause()
                        .hasMessageContaining("umh.helpers.x.kryo.registrations"));
        runner.withPropertyValues("umh.helpers.x.blob=classpath:helpers/not-executable.txt")
                .run(context -> assertThat(context).getFailure().rootCause()
                        .hasMessageContaining("umh.helpers.x.blob").hasMessageContaining("could not be started"));
    }

    @Test
    void aLazyHelperThatCannotStartFailsItsRequestsAndItsHealth() {
        runner.withPropertyValues("umh.helpers.x.blob=classpath:helpers/not-executable.txt",
                "umh.helpers.x.startup=lazy")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThatThrownBy(() -> context.getBean(UmhHelpers.class).<String, String>client("x")
                            .exchange("a").block(TIMEOUT)).isInstanceOf(io.umhflux.SpawnException.class);
                    Health health = indicator(context.getBean(CompositeHealthContributor.class), "x").health();
                    assertThat(health.getStatus()).isEqualTo(Status.DOWN);
                    assertThat(health.getDetails()).containsEntry("state", "cannot start")
                            .hasEntrySatisfying("error", e -> assertThat(e.toString()).contains("SpawnException"));
                });
    }

    @Test
    void aKilledHelpersHealthIsDownWithItsExitUntilAnotherRuns() {
        runner.withPropertyValues(
                "umh.helpers.single.blob=file:/bin/cat", "umh.helpers.single.client=single",
                "umh.helpers.pooled.blob=file:/bin/cat", "umh.helpers.pooled.client=pool",
                "umh.helpers.pooled.pool.size=1")
                .run(context -> {
                    UmhHelpers helpers = context.getBean(UmhHelpers.class);
                    CompositeHealthContributor umh = context.getBean(CompositeHealthContributor.class);
                    assertThat(indicator(umh, "single").health().getStatus()).isEqualTo(Status.UP);
                    long pid = helpers.state("single").pids().iterator().next();
                    ProcessHandle.of(pid).orElseThrow().destroyForcibly();
                    await().atMost(TIMEOUT).until(() -> indicator(umh, "single").health().getStatus() == Status.DOWN);
                    assertThat(indicator(umh, "single").health().getDetails())
                            .containsEntry("lastExit", "killed by SIGKILL (9)").containsEntry("state", "failed");

                    UmhClient<String, String> pooled = helpers.client("pooled");
                    assertThat(pooled.exchange("x").block(TIMEOUT)).isEqualTo("x");
                    assertThat(indicator(umh, "pooled").health().getStatus()).isEqualTo(Status.UP);
                    long pooledPid = helpers.state("pooled").pids().iterator().next();
                    ProcessHandle.of(pooledPid).orElseThrow().destroyForcibly();
                    await().atMost(TIMEOUT).until(() -> indicator(umh, "pooled").health().getStatus() == Status.DOWN);
                    assertThat(pooled.exchange("y").block(TIMEOUT)).isEqualTo("y"); // the pool starts another
                    assertThat(indicator(umh, "pooled").health().getStatus()).isEqualTo(Status.UP);
                });
    }

    @Test
    void theRestartBudgetAndThePoolsIdleTimeoutAndRetriesAreTheHelpersSettings() {
        runner.withPropertyValues(
                "umh.helpers.fragile.blob=file:/bin/cat",
                "umh.helpers.fragile.restart.first-backoff=10ms", "umh.helpers.fragile.restart.max-backoff=10ms",
                "umh.helpers.fragile.restart.max-restarts=1", "umh.helpers.fragile.restart.window=1m",
                "umh.helpers.idle.blob=file:/bin/cat", "umh.helpers.idle.client=pool",
                "umh.helpers.idle.pool.size=1", "umh.helpers.idle.pool.idle-timeout=200ms",
                "umh.helpers.retried.blob=classpath:helpers/silent.sh", "umh.helpers.retried.client=pool",
                "umh.helpers.retried.pool.size=1", "umh.helpers.retried.pool.idempotent-retries=2")
                .run(context -> {
                    UmhHelpers helpers = context.getBean(UmhHelpers.class);
                    CompositeHealthContributor umh = context.getBean(CompositeHealthContributor.class);
                    // one restart allowed: the second kill gives up
                    for (int kill = 0; kill < 2; kill++) {
                        await().atMost(TIMEOUT).until(() -> helpers.state("fragile").pids().size() == 1);
                        long pid = helpers.state("fragile").pids().iterator().next();
                        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
                        await().atMost(TIMEOUT).until(() -> !helpers.state("fragile").pids().contains(pid));
                    }
                    await().atMost(TIMEOUT).until(() -> helpers.state("fragile").state().equals("failed"));
                    Health gaveUp = indicator(umh, "fragile").health();
                    assertThat(gaveUp.getStatus()).isEqualTo(Status.DOWN);
                    assertThat(gaveUp.getDetails().get("error").toString()).contains("RestartsExhaustedException");

                    UmhClient<String, String> idle = helpers.client("idle");
                    assertThat(idle.exchange("x").block(TIMEOUT)).isEqualTo("x");
                    long idlePid = helpers.state("idle").pids().iterator().next();
                    await().atMost(TIMEOUT).until(() -> ProcessHandle.of(idlePid).isEmpty());

                    // a request whose helper is killed goes again to the next one (which is killed too)
                    UmhClient<String, String> retried = helpers.client("retried");
                    reactor.core.Disposable call = retried.exchange("never answered").subscribe(a -> { }, e -> { });
                    java.util.Set<Long> killed = new java.util.HashSet<>();
                    await().atMost(TIMEOUT).until(() -> {
                        for (long pid : helpers.state("retried").pids()) {
                            if (killed.add(pid)) {
                                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                            }
                        }
                        return killed.size() == 3;
                    });
                    call.dispose();
                });
    }

    @Test
    void aStoppedContextStartsItsHelpersAgain() {
        List<Long> before = Children.of();
        runner.withPropertyValues("umh.helpers.echo.blob=file:/bin/cat")
                .run(context -> {
                    UmhClient<String, String> echo = context.getBean(UmhHelpers.class).client("echo");
                    assertThat(echo.exchange("a").block(TIMEOUT)).isEqualTo("a");
                    context.stop();
                    await().atMost(TIMEOUT).until(() -> Children.of().size() == before.size());
                    context.start();
                    assertThat(Children.of()).as("the eager helper started again").hasSize(before.size() + 1);
                    assertThat(echo.exchange("b").block(TIMEOUT)).isEqualTo("b");
                });
    }

    @Test
    void aHelperThePoolLetGoWhenIdleIsNoCrashEvenWithANonZeroStatus() {
        runner.withPropertyValues("umh.helpers.idle.blob=classpath:helpers/exit1.sh", "umh.helpers.idle.client=pool",
                "umh.helpers.idle.pool.size=1", "umh.helpers.idle.pool.idle-timeout=200ms")
                .run(context -> {
                    UmhHelpers helpers = context.getBean(UmhHelpers.class);
                    assertThat(helpers.<String, String>client("idle").exchange("x").block(TIMEOUT)).isEqualTo("x");
                    long pid = helpers.state("idle").pids().iterator().next();
                    await().atMost(TIMEOUT).until(() -> ProcessHandle.of(pid).isEmpty()
                            && helpers.state("idle").lastExit() != null);
                    assertThat(helpers.state("idle").lastExit().code()).isEqualTo(1);
                    Health health = indicator(context.getBean(CompositeHealthContributor.class), "idle").health();
                    assertThat(health.getStatus()).isEqualTo(Status.UP);
                    assertThat(health.getDetails()).containsEntry("state", "idle");
                });
    }

    @Test
    void theHealthContributorCanBeSwitchedOff() {
        runner.withPropertyValues("umh.helpers.echo.blob=file:/bin/cat", "management.health.umh.enabled=false")
                .run(context -> assertThat(context).hasNotFailed()
                        .doesNotHaveBean(CompositeHealthContributor.class));
    }

    private static HealthIndicator indicator(CompositeHealthContributor composite, String name) {
        return (HealthIndicator) composite.getContributor(name);
    }


    /** A size or duration the library refuses fails start-up naming the property, as the others do. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"stop-grace=-1s", "request-timeout=-1s",
            "restart.first-backoff=-1s", "restart.max-restarts=-1", "restart.window=0s", "pool.idle-timeout=-1s",
            "pool.idempotent-retries=-1"})
    void aRefusedSizeOrDurationNamesItsProperty(String setting) {
        String property = "umh.helpers.x." + setting.substring(0, setting.indexOf('='));
        boolean pool = setting.startsWith("pool.");
        runner.withPropertyValues("umh.helpers.x.blob=file:/bin/cat", "umh.helpers.x." + setting,
                        "umh.helpers.x.client=" + (pool ? "pool" : "supervised"))
                .run(context -> assertThat(context).getFailure()
                        .hasRootCauseInstanceOf(InvalidConfigurationPropertyValueException.class)
                        .hasStackTraceContaining("Property " + property + " "));
    }

    /**
     * A stopped and started context (a checkpoint and restore) disposes of the web server's loops and makes new
     * ones: its helpers start again on the new loops.
     */
    @Test
    void aStoppedContextStartsItsHelpersAgainOnTheServersNewLoops() {
        runner.withBean(ReactorResourceFactory.class, ReactorResourceFactory::new)
                .withPropertyValues("umh.helpers.echo.blob=file:/bin/cat")
                .run(context -> {
                    UmhClient<String, String> echo = context.getBean(UmhHelpers.class).client("echo");
                    assertThat(echo.exchange("a").block(TIMEOUT)).isEqualTo("a");
                    io.netty.channel.IoEventLoopGroup before =
                            context.getBean(UmhAutoConfiguration.ServerLoops.class).group();
                    assertThat(before).as("the server's epoll loops").isNotNull();
                    context.stop();
                    context.start();
                    assertThat(before.isShuttingDown()).as("the old loops after the stop").isTrue();
                    assertThat(echo.exchange("b").block(TIMEOUT)).isEqualTo("b");
                });
    }
}
