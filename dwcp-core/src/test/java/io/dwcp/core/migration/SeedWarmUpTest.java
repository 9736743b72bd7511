package io.dwcp.core.migration;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The hashing warm-up a sender starts while it connects: once per JVM, on a daemon thread that ends. */
class SeedWarmUpTest {
    @Test
    void theWarmUpRunsOncePerProcessOnADaemonThreadThatEnds() throws Exception {
        Thread first = SeedStateHasher.warmUpInBackground();
        assertTrue(first.isDaemon(), "a warm-up never keeps a process alive");
        assertSame(first, SeedStateHasher.warmUpInBackground(), "a second call starts no second warm-up");
        first.join(60_000);
        assertFalse(first.isAlive(), "the warm-up ended");
        assertSame(first, SeedStateHasher.warmUpInBackground(), "nor does a call after it ended");
    }
}
