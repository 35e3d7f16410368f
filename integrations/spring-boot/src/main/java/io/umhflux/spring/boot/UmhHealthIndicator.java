package io.umhflux.spring.boot;

import io.umhflux.ExitStatus;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * One helper's health: UP while a helper runs or one can be started; DOWN after its helper crashed and none runs
 * (until the next one starts), after a spawn failed, or once a supervised client gave up. The details name the
 * state, the pids, and the last exit with its last stderr lines.
 */
final class UmhHealthIndicator implements HealthIndicator {
    private final UmhHelpers helpers;
    private final String name;

    UmhHealthIndicator(UmhHelpers helpers, String name) {
        this.helpers = helpers;
        this.name = name;
    }

    @Override
    public Health health() {
        UmhHelpers.HelperState s = helpers.state(name);
        Health.Builder b = s.up() ? Health.up() : Health.down();
        b.withDetail("state", s.state());
        if (!s.pids().isEmpty()) {
            b.withDetail("pids", s.pids());
        }
        ExitStatus exit = s.lastExit();
        if (exit != null) {
            b.withDetail("lastExit", exit.summary());
            if (!exit.stderrTail().isEmpty()) {
                b.withDetail("stderr", exit.stderrTail());
            }
        }
        if (s.failure() != null) {
            b.withDetail("error", s.failure().getClass().getName() + ": " + s.failure().getMessage());
        }
        return b.build();
    }
}
