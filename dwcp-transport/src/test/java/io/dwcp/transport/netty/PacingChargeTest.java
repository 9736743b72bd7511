package io.dwcp.transport.netty;

import io.dwcp.core.DataRate;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.config.TransportKeys;
import io.dwcp.core.testing.TestContext;
import io.dwcp.transport.control.TokenBucket;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * With both rate caps set, a chunk that the node-wide bucket refuses is not sent, so its session's bucket must not be
 * charged for it either (else the session pays twice: now, and again when the chunk really goes).
 */
class PacingChargeTest {

    @Test
    void aChunkRefusedByTheGlobalBucketTakesNothingFromTheSessionBucket() {
        AmstTransport t = AmstTransport.create(TestContext.of(DwcpConfig.builder().set(TransportKeys.TLS_ENABLED, false).build()));
        t.start();
        try {
            t.globalRateCap(DataRate.ofBytesPerSecond(1024));
            // Rates and chunk sizes give debts of a minute: the few microseconds between the calls refill nothing.
            TokenBucket first = new TokenBucket(1 << 20);
            TokenBucket second = new TokenBucket(1 << 20);
            assertEquals(0, t.acquirePacing(first, 64 << 20), "both buckets start out of debt");
            assertTrue(t.acquirePacing(second, 64 << 20) > 0, "the global bucket is in debt: the chunk waits");
            assertEquals(0, second.tryAcquire(1, System.nanoTime()),
                    "the session bucket of the refused chunk was not charged");
            assertTrue(t.acquirePacing(first, 1) > 0, "a session in debt still waits");
        } finally {
            t.stop();
        }
    }
}
