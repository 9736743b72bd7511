package io.dwcp.consensus;

import io.dwcp.core.spi.Consensus;
import io.dwcp.core.spi.Consensus.CasResult;
import io.dwcp.core.spi.Consensus.Versioned;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Migration locks with leases, on any {@link Consensus}: at most one holder per VM at a time, for a bounded time, with
 * a fencing token.
 *
 * <p>A lock is the register {@code vm/<vmId>/lock} holding {@code <expiry in epoch ms>|<holder>}, or
 * {@code released|<holder>} after a release. {@link #acquire} takes the lock with a compare-and-set from the value it
 * read when that value is absent, released, or expired by this node's clock; {@link #renew} moves the expiry with a
 * compare-and-set from the holder's own value; {@link #release} sets it released the same way. Each successful step
 * returns a {@link Lease} whose {@link Lease#token() token} is the version of the committed value: tokens only grow, so
 * whatever the lock protects (the migration's destination, its staging area) can refuse a holder whose token is
 * smaller than one it has seen — a holder that lost its lease to a later acquirer cannot do harm even if it does not
 * yet know.
 *
 * <pre>{@code
 * MigrationLocks locks = new MigrationLocks(dwcp.consensus(), Clock.systemUTC());
 * Optional<Lease> lease = locks.acquire("vm-1", "site-a/migrator-3", Duration.ofSeconds(30)).get();
 * if (lease.isPresent()) {
 *     ... migrate, renewing every ~10 s: lease = locks.renew(lease.get(), Duration.ofSeconds(30)).get() ...
 *     locks.release(lease.get()).get();
 * }
 * }</pre>
 *
 * <p>Clocks: expiry is judged by the acquirer's clock against the expiry the holder's clock wrote, so the lease is
 * only as exact as the clocks agree; keep leases much longer than the clock skew between sites. Mutual exclusion of
 * the <em>decision</em> never depends on clocks (each step is a linearizable compare-and-set); only how soon an
 * abandoned lock can be taken over does. The ownership of a VM itself is not a lease: it changes only by
 * {@link Consensus#handOver}.
 *
 * <p>Thread-safe (stateless apart from its {@link Consensus} and clock).
 */
public final class MigrationLocks {
    private static final String RELEASED = "released";
    private static final int MAX_HOLDER = 200;

    private final Consensus consensus;
    private final Clock clock;

    /**
     * @param consensus the register service holding the locks
     * @param clock the clock that stamps expiries and judges them
     */
    public MigrationLocks(Consensus consensus, Clock clock) {
        this.consensus = Objects.requireNonNull(consensus, "consensus");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * A held lock.
     *
     * @param vmId the VM
     * @param holder who holds it
     * @param expiresAt when the lease ends unless renewed (by the holder's clock)
     * @param token the version of the committed lock value: a fencing token, larger for every later acquisition
     * @param value the committed register value (what the next step compares against)
     */
    public record Lease(String vmId, String holder, Instant expiresAt, long token, String value) {
        /**
         * Checks the components.
         *
         * @param vmId the VM
         * @param holder who holds it
         * @param expiresAt when the lease ends unless renewed
         * @param token the fencing token, positive
         * @param value the committed register value
         */
        public Lease {
            Objects.requireNonNull(vmId, "vmId");
            Objects.requireNonNull(holder, "holder");
            Objects.requireNonNull(expiresAt, "expiresAt");
            Objects.requireNonNull(value, "value");
            if (token <= 0) {
                throw new IllegalArgumentException("token must be positive, got " + token);
            }
        }
    }

    /**
     * The register key of a VM's migration lock: {@code vm/<vmId>/lock}.
     *
     * @param vmId the VM, non-empty
     * @return the key
     */
    public static String lockKey(String vmId) {
        if (vmId == null || vmId.isEmpty()) {
            throw new IllegalArgumentException("vmId must be a non-empty string");
        }
        return "vm/" + vmId + "/lock";
    }

    /**
     * Takes the lock of {@code vmId} for {@code lease} unless another holder's lease is still running. A holder that
     * already holds it gets it again with the new expiry (and a new token).
     *
     * @param vmId the VM
     * @param holder who asks, 1–200 characters
     * @param lease how long the lock is held without a renewal, positive
     * @return the lease, or empty when another holder's unexpired lease stands
     */
    public CompletableFuture<Optional<Lease>> acquire(String vmId, String holder, Duration lease) {
        String key = lockKey(vmId);
        checkHolder(holder);
        checkLease(lease);
        return consensus.read(key).thenCompose(current -> takeOver(vmId, key, holder, lease, current, true));
    }

    private CompletableFuture<Optional<Lease>> takeOver(String vmId, String key, String holder, Duration lease,
                                                        Versioned current, boolean mayRetry) {
        if (current.isPresent() && heldByOtherUnexpired(current.value(), holder)) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        Instant expiry = clock.instant().plus(lease);
        String value = expiry.toEpochMilli() + "|" + holder;
        return consensus.compareAndSet(key, current.value(), value).thenCompose(cas -> {
            if (cas.applied()) {
                return CompletableFuture.completedFuture(Optional.of(new Lease(vmId, holder, expiry, cas.current().version(), value)));
            }
            // Someone changed the lock between the read and the compare-and-set: judge the value that won, once.
            return mayRetry ? takeOver(vmId, key, holder, lease, cas.current(), false)
                    : CompletableFuture.completedFuture(Optional.empty());
        });
    }

    /**
     * Extends a held lease to {@code extension} from now, if the lock still holds exactly this lease's value (nobody
     * took it over after an expiry).
     *
     * @param held the lease from {@link #acquire} or an earlier renewal
     * @param extension the new lease length from now, positive
     * @return the renewed lease, or empty when the lock was lost
     */
    public CompletableFuture<Optional<Lease>> renew(Lease held, Duration extension) {
        Objects.requireNonNull(held, "held");
        checkLease(extension);
        Instant expiry = clock.instant().plus(extension);
        String value = expiry.toEpochMilli() + "|" + held.holder();
        return consensus.compareAndSet(lockKey(held.vmId()), held.value(), value).thenApply(cas -> cas.applied()
                ? Optional.of(new Lease(held.vmId(), held.holder(), expiry, cas.current().version(), value))
                : Optional.empty());
    }

    /**
     * Releases a held lease so that another holder may take the lock at once.
     *
     * @param held the lease
     * @return true when released; false when the lock had already been taken over (nothing changed)
     */
    public CompletableFuture<Boolean> release(Lease held) {
        Objects.requireNonNull(held, "held");
        return consensus.compareAndSet(lockKey(held.vmId()), held.value(), RELEASED + "|" + held.holder())
                .thenApply(CasResult::applied);
    }

    /**
     * The lock's current holder, if its lease has not expired by this node's clock (a linearizable read).
     *
     * @param vmId the VM
     * @return the holder and expiry, or empty when the lock is free, released or expired
     */
    public CompletableFuture<Optional<Lease>> holder(String vmId) {
        String key = lockKey(vmId);
        return consensus.read(key).thenApply(v -> {
            if (!v.isPresent()) {
                return Optional.empty();
            }
            Parsed p = parse(v.value());
            if (p == null || p.released() || !p.expiresAt().isAfter(clock.instant())) {
                return Optional.empty();
            }
            return Optional.of(new Lease(vmId, p.holder(), p.expiresAt(), v.version(), v.value()));
        });
    }

    private boolean heldByOtherUnexpired(String value, String holder) {
        Parsed p = parse(value);
        if (p == null) {
            // Not a lock value (the register was written by something else): never take it over silently.
            return true;
        }
        return !p.released() && !p.holder().equals(holder) && p.expiresAt().isAfter(clock.instant());
    }

    record Parsed(boolean released, Instant expiresAt, String holder) {
    }

    /** Parses a lock value; null when it is not one. */
    static Parsed parse(String value) {
        int bar = value.indexOf('|');
        if (bar <= 0 || bar == value.length() - 1) {
            return null;
        }
        String head = value.substring(0, bar);
        String holder = value.substring(bar + 1);
        if (head.equals(RELEASED)) {
            return new Parsed(true, Instant.EPOCH, holder);
        }
        try {
            return new Parsed(false, Instant.ofEpochMilli(Long.parseLong(head)), holder);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static void checkHolder(String holder) {
        if (holder == null || holder.isEmpty() || holder.length() > MAX_HOLDER) {
            throw new IllegalArgumentException("holder must be 1–" + MAX_HOLDER + " characters, got "
                    + (holder == null ? "null" : holder.length() + " characters"));
        }
    }

    private static void checkLease(Duration lease) {
        if (lease == null || lease.isNegative() || lease.isZero()) {
            throw new IllegalArgumentException("lease must be a positive duration, got " + lease);
        }
    }
}
