package io.dwcp.consensus;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.Health;
import io.dwcp.core.spi.Consensus;

import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/*
 * The GLOBAL scope by home-region ownership: every global key is ordered by the Raft group of one region, its home;
 * writers elsewhere send their commands to that group (they "forward"), and the home moves by a committed hand-off.
 * No new engine and no new command: each region's group holds, for global key K, the register "g/" + K whose value is
 * a small state word, and every transition is a compare-and-set in one group.
 *
 *   H<e>+<value> | H<e>-            this region is K's home since epoch e; the value (or absent)
 *   M<e>@<region>|+<value> | ...|-  K moved away: <region> is its home from epoch e on; the value at the fence
 *   (register absent)               never K's home, unless this is K's initial home: then "H0-"
 *
 * Operation at the home (read, write, compare-and-set): a command in the home group. Writes are a CAS of the state
 * word from the one last seen (cached per key) to the new one; a mismatch returns the current word in the same
 * commit, so a stale cache costs one more local commit, never a wrong result: the decision (e.g. "expected does not
 * match") is always taken against the word a committed command returned, which is the linearization point.
 *
 * Hand-off to region R (moveHome): (1) fence — CAS in the old home from H<e>... to M<e+1>@R|<value>; from this commit
 * on the old home serves nothing for K (every operation that reaches it follows the marker); (2) install — CAS in R
 * from its current word (absent, or an older marker) to H<e+1>+<value>. The marker carries the value, so a mover that
 * dies between (1) and (2) leaves nothing lost: any client that follows the marker and finds R's epoch below e+1
 * completes the install itself. At every instant at most one region answers for K: the old home stopped at its fence
 * commit, and R starts only with the fence's value, so the register's history is one sequence across regions.
 *
 * Versions (fencing tokens) stay monotonic across moves: the version of a global value is (e << 40) | log index in
 * its home group (log indexes below 2^40).
 *
 * Thread-safe; the per-key cache is only a hint.
 */
final class HomeRegionRegisters implements Consensus {
    static final String PREFIX = "g/";
    private static final int EPOCH_SHIFT = 40;
    private static final int MAX_HOPS = 64;

    private final Map<String, Consensus> groups;
    private final Function<String, String> initialHome;
    /** Told of every completed operation (null: nobody listens). */
    private volatile Observer observer;
    /** Key -> (region, state word) last seen; a hint. */
    private final Map<String, Seen> cache = new ConcurrentHashMap<>();

    private record Seen(String region, Versioned word) {
    }

    /** A parsed state word. */
    record Word(boolean home, long epoch, String region, String value) {
        static Word parse(String raw, boolean initialHome) {
            if (raw == null) {
                return initialHome ? new Word(true, 0, null, null) : null;
            }
            char type = raw.charAt(0);
            int i = 1;
            while (i < raw.length() && Character.isDigit(raw.charAt(i))) {
                i++;
            }
            long epoch = Long.parseLong(raw.substring(1, i));
            String region = null;
            if (type == 'M') {
                int bar = raw.indexOf('|', i);
                region = raw.substring(i + 1, bar);
                i = bar + 1;
            } else if (type != 'H') {
                throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "global register holds '" + raw
                        + "', not a home-region state word (was the key written through the regional scope?)");
            }
            String value = raw.charAt(i) == '+' ? raw.substring(i + 1) : null;
            return new Word(type == 'H', epoch, region, value);
        }

        String encode() {
            String v = value == null ? "-" : "+" + value;
            return home ? "H" + epoch + v : "M" + epoch + "@" + region + "|" + v;
        }
    }

    /** Told of each completed operation: what the locality rule (HomeMoves) counts. */
    @FunctionalInterface
    interface Observer {
        /**
         * @param key the global key
         * @param home the region whose group ordered the operation
         * @param foreignChange whether the operation found the home's word changed by someone else since this client
         *        last saw it
         * @param nanos the operation's latency
         */
        void completed(String key, String home, boolean foreignChange, long nanos);
    }

    void observer(Observer o) {
        this.observer = o;
    }

    HomeRegionRegisters(Map<String, Consensus> groups, Function<String, String> initialHome) {
        this.groups = Map.copyOf(groups);
        this.initialHome = initialHome;
    }

    @Override
    public String name() {
        return "consensus-global";
    }

    @Override
    public void start() {
        // the regional groups are started by their owner
    }

    @Override
    public void stop() {
        // the regional groups are stopped by their owner
    }

    @Override
    public Health health() {
        return Health.unknown("see the regional groups");
    }

    private String initial(String key) {
        String r = initialHome.apply(key);
        if (r == null || !groups.containsKey(r)) {
            throw new DwcpException(ErrorCode.INVALID_CONFIG, "initial home of global key '" + key + "' is '" + r
                    + "', not one of the regions " + groups.keySet());
        }
        return r;
    }

    private Consensus group(String region) {
        Consensus g = groups.get(region);
        if (g == null) {
            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "a home-region marker names unknown region '" + region
                    + "' (regions: " + groups.keySet() + ")");
        }
        return g;
    }

    /** The decision an operation takes against the home's committed state word. */
    @FunctionalInterface
    private interface Step<T> {
        /** Returns the result when the operation needs no write, or null with {@code next[0]} set to the new value. */
        T decide(Word current, Versioned raw, String[] next);
    }

    @Override
    public CompletableFuture<Versioned> read(String key) {
        return run(key, (w, raw, next) -> visible(w, raw), false);
    }

    @Override
    public CompletableFuture<Versioned> write(String key, String value) {
        Objects.requireNonNull(value, "value");
        return run(key, (w, raw, next) -> {
            next[0] = value;
            return null;
        }, true);
    }

    @Override
    public CompletableFuture<CasResult> compareAndSet(String key, String expected, String newValue) {
        Objects.requireNonNull(newValue, "newValue");
        return run(key, (w, raw, next) -> {
            if (!Objects.equals(w.value(), expected)) {
                return new CasResult(false, visible(w, raw));
            }
            next[0] = newValue;
            return null;
        }, true).thenApply(r -> r instanceof CasResult c ? c : new CasResult(true, (Versioned) r));
    }

    /** The region that orders {@code key} now (a linearizable look-up: it reads the home's state word). */
    CompletableFuture<String> home(String key) {
        return locate(key, 0).thenApply(At::region);
    }

    /**
     * Moves {@code key}'s home to {@code to} by a committed hand-off: a fence in the old home, then the install in
     * {@code to}. Completes when {@code to} is the home; a no-op when it already is.
     */
    CompletableFuture<Void> moveHome(String key, String to) {
        group(to);
        return locate(key, 0).thenCompose(at -> {
            if (at.region().equals(to)) {
                return CompletableFuture.completedFuture(null);
            }
            Word w = Word.parse(at.word().value(), at.region().equals(initial(key)));
            Word fence = new Word(false, w.epoch() + 1, to, w.value());
            return group(at.region()).compareAndSet(PREFIX + key, at.word().value(), fence.encode()).thenCompose(c -> {
                if (!c.applied()) {
                    cache.put(key, new Seen(at.region(), c.current()));
                    return moveHome(key, to); // the word changed under us: decide again
                }
                return install(key, to, fence).thenCompose(x -> moveHome(key, to));
            });
        });
    }

    /** The home region and its committed state word (after completing any half-done hand-off on the way). */
    private record At(String region, Versioned word, boolean fresh) {
    }

    private CompletableFuture<At> locate(String key, int hops) {
        Seen s = cache.get(key);
        String region = s != null ? s.region() : initial(key);
        return follow(key, region, hops);
    }

    private CompletableFuture<At> follow(String key, String region, int hops) {
        if (hops > MAX_HOPS) {
            return CompletableFuture.failedFuture(new DwcpException(ErrorCode.QUORUM_UNAVAILABLE, "global key '" + key
                    + "' moved more than " + MAX_HOPS + " times while it was looked up; retry"));
        }
        return group(region).read(PREFIX + key).thenCompose(raw -> atWord(key, region, raw, hops));
    }

    private CompletableFuture<At> atWord(String key, String region, Versioned raw, int hops) {
        boolean isInitial = region.equals(initial(key));
        Word w = Word.parse(raw.value(), isInitial);
        if (w == null) {
            // Never home here: the cache was wrong (or stale); start again at the initial home.
            cache.remove(key);
            return follow(key, initial(key), hops + 1);
        }
        if (w.home()) {
            cache.put(key, new Seen(region, raw));
            return CompletableFuture.completedFuture(new At(region, raw, true));
        }
        // A marker: the home moved to w.region() at epoch w.epoch(); complete the install there if it is not done.
        return group(w.region()).read(PREFIX + key).thenCompose(there -> {
            Word t = Word.parse(there.value(), w.region().equals(initial(key)));
            if (t == null || t.epoch() < w.epoch()) {
                return install(key, w.region(), w).thenCompose(x -> follow(key, w.region(), hops + 1));
            }
            return atWord(key, w.region(), there, hops + 1);
        });
    }

    /** Installs the fence's value as the new home's word at the fence's epoch, unless a newer epoch is there. */
    private CompletableFuture<Void> install(String key, String region, Word fence) {
        Consensus g = group(region);
        return g.read(PREFIX + key).thenCompose(there -> {
            Word t = Word.parse(there.value(), region.equals(initial(key)));
            if (t != null && t.epoch() >= fence.epoch()) {
                return CompletableFuture.completedFuture(null);
            }
            if (t != null && t.home() && t.epoch() > 0) {
                return CompletableFuture.failedFuture(new DwcpException(ErrorCode.PROTOCOL_ERROR, "region '" + region
                        + "' is home of '" + key + "' at epoch " + t.epoch() + " below a fence at " + fence.epoch()));
            }
            Word home = new Word(true, fence.epoch(), null, fence.value());
            return g.compareAndSet(PREFIX + key, there.value(), home.encode())
                    .thenCompose(c -> c.applied() ? CompletableFuture.completedFuture(null) : install(key, region, fence));
        });
    }

    /**
     * Runs one operation: finds the home, decides against its committed word, and (for writes) commits the new word
     * with a CAS from the word decided on; on a mismatch it decides again against the word that CAS returned. A
     * decision that needs no write is returned only when taken on a word committed during this operation (a cached
     * word is only a guess for the CAS's expected value).
     */
    @SuppressWarnings("unchecked")
    private <T> CompletableFuture<T> run(String key, Step<?> step, boolean writes) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException("key must be a non-empty string");
        }
        long t0 = System.nanoTime();
        Seen before = cache.get(key);
        Seen s = writes ? before : null;
        boolean[] changed = new boolean[1];
        CompletableFuture<At> at = s != null ? CompletableFuture.completedFuture(new At(s.region(), s.word(), false))
                : locate(key, 0).thenApply(a -> {
                    // A word this client had not seen at the same home: someone else wrote the key meanwhile.
                    changed[0] = before != null && before.region().equals(a.region()) && !before.word().equals(a.word());
                    return a;
                });
        CompletableFuture<T> done = at.thenCompose(a -> (CompletableFuture<T>) attempt(key, a, step, 0, changed));
        Observer o = observer;
        if (o != null) {
            done.whenComplete((r, e) -> {
                Seen after = cache.get(key);
                if (e == null && after != null) {
                    o.completed(key, after.region(), changed[0], System.nanoTime() - t0);
                }
            });
        }
        return done;
    }

    private CompletableFuture<Object> attempt(String key, At at, Step<?> step, int tries, boolean[] changed) {
        if (tries > MAX_HOPS) {
            return CompletableFuture.failedFuture(new DwcpException(ErrorCode.QUORUM_UNAVAILABLE, "global key '" + key
                    + "' changed under " + MAX_HOPS + " attempts of one operation; retry"));
        }
        Word w = Word.parse(at.word().value(), at.region().equals(initial(key)));
        if (w == null || !w.home()) {
            return locate(key, tries + 1).thenCompose(a -> attempt(key, a, step, tries + 1, changed));
        }
        String[] next = new String[1];
        Object result = step.decide(w, at.word(), next);
        if (next[0] == null) {
            if (!at.fresh()) {
                return follow(key, at.region(), tries + 1).thenCompose(a -> {
                    changed[0] |= !a.word().equals(at.word());
                    return attempt(key, a, step, tries + 1, changed);
                });
            }
            return CompletableFuture.completedFuture(result);
        }
        Word updated = new Word(true, w.epoch(), null, next[0]);
        return group(at.region()).compareAndSet(PREFIX + key, at.word().value(), updated.encode()).thenCompose(c -> {
            cache.put(key, new Seen(at.region(), c.current()));
            if (c.applied()) {
                return CompletableFuture.completedFuture(visible(updated, c.current()));
            }
            changed[0] = true; // the compare-and-set missed: the word had changed since this client saw it
            return attempt(key, new At(at.region(), c.current(), true), step, tries + 1, changed);
        });
    }

    /** The user-visible value of a home word: its value, version = (epoch << 40) | log index. */
    private static Versioned visible(Word w, Versioned raw) {
        if (w.value() == null) {
            return Versioned.absent();
        }
        return new Versioned(w.value(), (w.epoch() << EPOCH_SHIFT) | raw.version());
    }
}
