package io.dwcp.core.path;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Per peer, a bounded history of {@link PathSample}s: the transport records what it measured, and readers
 * (tier classifier, bandwidth predictor, partitioner, consensus) read the history or subscribe to new samples.
 *
 * <pre>{@code
 * PathMonitor monitor = manager.pathMonitor();
 * monitor.addListener(sample -> ...);                        // called for every accepted sample
 * monitor.record(PathSample.goodput(peer, now, PathSample.Source.TRANSPORT, bitsPerSecond));
 * List<PathSample> recent = monitor.history(peer);
 * }</pre>
 *
 * <p>Bad input loses nothing and throws nothing: a sample with an infinite or negative value, no value at all, a time
 * before the peer's last accepted sample, or a time more than {@link #MAX_FUTURE} ahead of the clock is rejected,
 * counted by {@link Rejection}, and not stored. A peer never heard of has an empty history: the monitor never invents
 * a value.
 *
 * <p>Memory: at most {@code capacityPerPeer} samples for each of at most {@code maxPeers} peers; a sample for a further
 * peer is rejected ({@link Rejection#PEER_LIMIT}) until {@link #forget(String)} frees a slot.
 *
 * <p>Thread-safe. Listeners run on the recording thread, after the sample is stored, outside the monitor's lock; a
 * listener that throws is counted ({@link #listenerFailures()}), logged once, and does not stop the others.
 */
public final class PathMonitor {
    private static final Logger LOG = LoggerFactory.getLogger(PathMonitor.class);

    /** How far ahead of the clock a sample's time may be (clock skew between the measuring thread and the clock). */
    public static final Duration MAX_FUTURE = Duration.ofSeconds(5);

    /** Why a sample was not stored. */
    public enum Rejection {
        /** An infinite value. */
        NOT_FINITE,
        /** A negative value, a loss ratio above 1, or a negative RTT. */
        OUT_OF_RANGE,
        /** Nothing measured. */
        NO_VALUE,
        /** Older than the peer's last accepted sample. */
        OUT_OF_ORDER,
        /** More than {@link #MAX_FUTURE} ahead of the clock. */
        FUTURE,
        /** The monitor already tracks {@code maxPeers} other peers. */
        PEER_LIMIT
    }

    /** Receives each accepted sample. */
    @FunctionalInterface
    public interface Listener {
        /**
         * Called on the recording thread after {@code sample} was stored; must be quick and must not block.
         *
         * @param sample the sample
         */
        void onSample(PathSample sample);
    }

    private final Clock clock;
    private final int capacityPerPeer;
    private final int maxPeers;
    private final Object lock = new Object();
    /** Guarded by lock. */
    private final Map<String, Ring> peers = new HashMap<>();
    private final Map<Rejection, LongAdder> rejected = new EnumMap<>(Rejection.class);
    private final LongAdder accepted = new LongAdder();
    private final LongAdder listenerFailures = new LongAdder();
    private final AtomicBoolean listenerFailureLogged = new AtomicBoolean();
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();

    /**
     * @param clock the clock that bounds sample times from above
     * @param capacityPerPeer samples kept per peer, oldest dropped first; ≥ 1
     * @param maxPeers peers tracked at once; ≥ 1
     * @throws IllegalArgumentException when a bound is below 1
     */
    public PathMonitor(Clock clock, int capacityPerPeer, int maxPeers) {
        this.clock = Objects.requireNonNull(clock, "clock");
        if (capacityPerPeer < 1 || maxPeers < 1) {
            throw new IllegalArgumentException("capacityPerPeer and maxPeers must be >= 1, got " + capacityPerPeer
                    + " and " + maxPeers);
        }
        this.capacityPerPeer = capacityPerPeer;
        this.maxPeers = maxPeers;
        for (Rejection r : Rejection.values()) {
            rejected.put(r, new LongAdder());
        }
    }

    /**
     * Stores a sample and passes it to the listeners, or rejects it.
     *
     * @param sample the sample
     * @return {@code null} when stored, else why it was rejected (and counted)
     */
    public Rejection record(PathSample sample) {
        Objects.requireNonNull(sample, "sample");
        Rejection why = sample.invalidValues();
        if (why == null && sample.time().isAfter(clock.instant().plus(MAX_FUTURE))) {
            why = Rejection.FUTURE;
        }
        if (why == null) {
            synchronized (lock) {
                Ring ring = peers.get(sample.peer());
                if (ring == null) {
                    if (peers.size() >= maxPeers) {
                        why = Rejection.PEER_LIMIT;
                    } else {
                        ring = new Ring(capacityPerPeer);
                        peers.put(sample.peer(), ring);
                    }
                }
                if (ring != null) {
                    PathSample last = ring.last();
                    if (last != null && sample.time().isBefore(last.time())) {
                        why = Rejection.OUT_OF_ORDER;
                    } else {
                        ring.add(sample);
                    }
                }
            }
        }
        if (why != null) {
            rejected.get(why).increment();
            return why;
        }
        accepted.increment();
        for (Listener l : listeners) {
            try {
                l.onSample(sample);
            } catch (RuntimeException e) {
                // A reader's bug must not stop the transport that records, nor the other readers.
                listenerFailures.increment();
                if (listenerFailureLogged.compareAndSet(false, true)) {
                    LOG.error("a path monitor listener threw; further failures are only counted", e);
                }
            }
        }
        return null;
    }

    /**
     * Subscribes to accepted samples.
     *
     * @param listener the listener
     */
    public void addListener(Listener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /**
     * Unsubscribes; no effect when not subscribed.
     *
     * @param listener the listener
     */
    public void removeListener(Listener listener) {
        listeners.remove(listener);
    }

    /**
     * The peer's samples, oldest first; empty for a peer never recorded. A copy.
     *
     * @param peer the peer
     * @return the samples
     */
    public List<PathSample> history(String peer) {
        synchronized (lock) {
            Ring ring = peers.get(peer);
            return ring == null ? List.of() : ring.toList();
        }
    }

    /**
     * The peer's newest sample, if any.
     *
     * @param peer the peer
     * @return the sample, or empty
     */
    public Optional<PathSample> latest(String peer) {
        synchronized (lock) {
            Ring ring = peers.get(peer);
            return Optional.ofNullable(ring == null ? null : ring.last());
        }
    }

    /**
     * The time of the peer's newest sample, if any.
     *
     * @param peer the peer
     * @return the time, or empty
     */
    public Optional<Instant> lastSampleTime(String peer) {
        return latest(peer).map(PathSample::time);
    }

    /** {@return peers with at least one stored sample, sorted} */
    public Set<String> peers() {
        synchronized (lock) {
            return new TreeSet<>(peers.keySet());
        }
    }

    /**
     * Drops a peer's history (e.g. when its session ends for good).
     *
     * @param peer the peer
     */
    public void forget(String peer) {
        synchronized (lock) {
            peers.remove(peer);
        }
    }

    /** {@return samples stored since creation} */
    public long accepted() {
        return accepted.sum();
    }

    /**
     * Samples rejected for this reason since creation.
     *
     * @param reason the reason
     * @return the count
     */
    public long rejected(Rejection reason) {
        return rejected.get(reason).sum();
    }

    /** {@return listener calls that threw since creation} */
    public long listenerFailures() {
        return listenerFailures.sum();
    }

    /** {@return samples kept per peer} */
    public int capacityPerPeer() {
        return capacityPerPeer;
    }

    /** Fixed-size ring of samples, oldest overwritten. Guarded by the monitor's lock. */
    private static final class Ring {
        private final PathSample[] items;
        private int next;
        private int size;

        Ring(int capacity) {
            this.items = new PathSample[capacity];
        }

        void add(PathSample s) {
            items[next] = s;
            next = (next + 1) % items.length;
            if (size < items.length) {
                size++;
            }
        }

        PathSample last() {
            return size == 0 ? null : items[(next - 1 + items.length) % items.length];
        }

        List<PathSample> toList() {
            List<PathSample> out = new ArrayList<>(size);
            int start = (next - size + items.length) % items.length;
            for (int i = 0; i < size; i++) {
                out.add(items[(start + i) % items.length]);
            }
            return out;
        }
    }
}
