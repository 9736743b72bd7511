package io.dwcp.bench;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;

/**
 * A UTC clock that a replay moves to each recorded sample's time, so components that age their state (forecast
 * confidence, future-sample checks) see trace time. Thread-safe; for the CLI and benchmarks only.
 */
public final class ReplayClock extends Clock {
    private volatile Instant now;

    /** A clock standing at {@code start}. */
    public ReplayClock(Instant start) {
        this.now = Objects.requireNonNull(start, "start");
    }

    /** Moves the clock to {@code time} (any direction). */
    public void set(Instant time) {
        this.now = Objects.requireNonNull(time, "time");
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        throw new UnsupportedOperationException("a replay clock is UTC only");
    }

    @Override
    public Instant instant() {
        return now;
    }
}
