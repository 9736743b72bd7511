package io.dwcp.consensus;

import io.dwcp.consensus.MigrationLocks.Lease;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MigrationLocksTest {
    private static final Duration LEASE = Duration.ofSeconds(30);

    /** A clock the test moves. */
    private static final class ManualClock extends Clock {
        private Instant now = Instant.parse("2026-01-01T00:00:00Z");

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    private final InMemoryRegisters registers = new InMemoryRegisters();
    private final ManualClock clock = new ManualClock();
    private final MigrationLocks locks = new MigrationLocks(registers, clock);

    @Test
    void oneHolderAtATimeWhileTheLeaseRuns() throws Exception {
        Lease a = locks.acquire("vm-1", "site-a", LEASE).get().orElseThrow();
        assertEquals(Optional.empty(), locks.acquire("vm-1", "site-b", LEASE).get());
        assertEquals("site-a", locks.holder("vm-1").get().orElseThrow().holder());
        clock.advance(Duration.ofSeconds(29));
        assertEquals(Optional.empty(), locks.acquire("vm-1", "site-b", LEASE).get(), "one second of lease is left");
        assertTrue(locks.acquire("vm-2", "site-b", LEASE).get().isPresent(), "locks of other VMs are independent");
        assertEquals(a.token(), locks.holder("vm-1").get().orElseThrow().token());
    }

    @Test
    void anExpiredLeaseIsTakenOverWithALargerTokenAndTheOldHolderCannotRenewOrRelease() throws Exception {
        Lease a = locks.acquire("vm-1", "site-a", LEASE).get().orElseThrow();
        clock.advance(Duration.ofSeconds(31));
        assertEquals(Optional.empty(), locks.holder("vm-1").get());
        Lease b = locks.acquire("vm-1", "site-b", LEASE).get().orElseThrow();
        assertTrue(b.token() > a.token(), "fencing tokens grow");
        assertEquals(Optional.empty(), locks.renew(a, LEASE).get());
        assertFalse(locks.release(a).get());
        assertEquals("site-b", locks.holder("vm-1").get().orElseThrow().holder());
    }

    @Test
    void renewalExtendsAndReleaseFreesAtOnce() throws Exception {
        Lease a = locks.acquire("vm-1", "site-a", LEASE).get().orElseThrow();
        clock.advance(Duration.ofSeconds(20));
        Lease renewed = locks.renew(a, LEASE).get().orElseThrow();
        assertEquals(clock.instant().plus(LEASE), renewed.expiresAt());
        clock.advance(Duration.ofSeconds(20));
        assertEquals(Optional.empty(), locks.acquire("vm-1", "site-b", LEASE).get(), "the renewal still runs");
        assertEquals(Optional.empty(), locks.renew(a, LEASE).get(), "a lease replaced by its renewal is spent");
        assertTrue(locks.release(renewed).get());
        assertEquals(Optional.empty(), locks.holder("vm-1").get());
        Lease b = locks.acquire("vm-1", "site-b", LEASE).get().orElseThrow();
        assertTrue(b.token() > renewed.token());
    }

    @Test
    void theHolderMayTakeItsOwnLockAgain() throws Exception {
        Lease a = locks.acquire("vm-1", "site-a", LEASE).get().orElseThrow();
        Lease again = locks.acquire("vm-1", "site-a", Duration.ofMinutes(5)).get().orElseThrow();
        assertTrue(again.token() > a.token());
        assertEquals(clock.instant().plus(Duration.ofMinutes(5)), again.expiresAt());
    }

    @Test
    void aRegisterThatIsNoLockIsNeverTakenOver() throws Exception {
        registers.write(MigrationLocks.lockKey("vm-1"), "something else").get();
        assertEquals(Optional.empty(), locks.acquire("vm-1", "site-a", LEASE).get());
        assertEquals(Optional.empty(), locks.holder("vm-1").get());
        assertEquals("something else", registers.read(MigrationLocks.lockKey("vm-1")).get().value());
    }

    @Test
    void misusedArgumentsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> locks.acquire("", "a", LEASE));
        assertThrows(IllegalArgumentException.class, () -> locks.acquire("vm", "", LEASE));
        assertThrows(IllegalArgumentException.class, () -> locks.acquire("vm", "a", Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> locks.acquire("vm", "a".repeat(201), LEASE));
    }
}
