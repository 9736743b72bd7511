package io.dwcp.consensus;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/*
 * When to move a global key's home to this node's region (the locality rule of the GLOBAL scope), from what this node
 * sees of its own operations. Per key and evaluation window it counts:
 *
 *   mine     operations this node completed on the key while its home was another region (remote operations)
 *   foreign  operations of this node that found the key's home word changed by someone else since this node last saw
 *            it (a compare-and-set that missed, or a read of a word it had not seen): a lower bound of other
 *            writers' activity, one per interleaving
 *
 * locality = mine / (mine + foreign). A window qualifies when mine >= MIN_OPS, locality >= locality-threshold, and the
 * expected benefit beats the cost by switch.benefit-margin:
 *
 *   benefit = (mean remote latency - mean local latency) x operations expected before the next allowed move
 *             (this window's rate x max(switch.min-interval, evaluate-interval))
 *   cost    = 3 x mean remote latency (the move's fence, install and look-up, which the key's operations wait for)
 *
 * A key moves after switch.stable-evaluations qualifying windows in a row, and not within switch.min-interval of its
 * last move seen here (hysteresis: a key used from two regions stays where it is; one that changed hands moves once).
 * Keys whose home is already this region, or that saw no operation in a window, are not candidates. At most
 * MAX_KEYS keys are tracked at once; operations on further keys are not counted until tracked ones go idle.
 *
 * Thread-safe (synchronized): operations record from completion threads, the evaluator runs on its own thread.
 */
final class HomeMoves {
    /** Remote operations per window below which a window never qualifies (too little to judge locality on). */
    static final int MIN_OPS = 10;
    /** Keys tracked at once. */
    static final int MAX_KEYS = 10_000;

    /** The rule's settings, from the dwcp.consensus keys of the same names. */
    record Settings(Duration evaluateInterval, double localityThreshold, int stableEvaluations, Duration minInterval,
                    double benefitMargin) {
        Settings {
            if (evaluateInterval.isNegative() || evaluateInterval.isZero() || localityThreshold < 0 || localityThreshold > 1
                    || stableEvaluations < 1 || minInterval.isNegative() || benefitMargin <= 1) {
                throw new IllegalArgumentException("bad home-move settings: " + evaluateInterval + ", " + localityThreshold
                        + ", " + stableEvaluations + ", " + minInterval + ", " + benefitMargin);
            }
        }
    }

    private static final class Stats {
        int mine;
        int foreign;
        long remoteNanos;
        int streak;
        long lastMoveNanos;
        boolean moved;
        String lastHome;
    }

    private final Settings settings;
    private final String localRegion;
    private final LongSupplier nanoClock;
    private final Map<String, Stats> keys = new HashMap<>();
    private long localNanos;
    private long localOps;

    HomeMoves(Settings settings, String localRegion, LongSupplier nanoClock) {
        this.settings = settings;
        this.localRegion = localRegion;
        this.nanoClock = nanoClock;
    }

    /**
     * Records one completed operation.
     *
     * @param key the global key
     * @param home the region that ordered it
     * @param foreignChange whether it found the home word changed by someone else since this node last saw it
     * @param nanos its latency
     */
    synchronized void record(String key, String home, boolean foreignChange, long nanos) {
        Stats s = keys.get(key);
        if (s != null && s.lastHome != null && !s.lastHome.equals(home)) {
            markMoved(s); // the home moved since this node last used the key (a move by anyone)
        }
        if (home.equals(localRegion)) {
            localNanos += nanos;
            localOps++;
            if (s != null) {
                s.lastHome = home;
                s.streak = 0;
            }
            return;
        }
        if (s == null) {
            if (keys.size() >= MAX_KEYS) {
                return;
            }
            s = new Stats();
            keys.put(key, s);
        }
        s.lastHome = home;
        s.mine++;
        s.remoteNanos += nanos;
        if (foreignChange) {
            s.foreign++;
        }
    }

    /** Notes that this node moved {@code key}'s home to its region, now. */
    synchronized void moved(String key) {
        Stats s = keys.computeIfAbsent(key, k -> new Stats());
        s.lastHome = localRegion;
        markMoved(s);
    }

    private void markMoved(Stats s) {
        s.moved = true;
        s.lastMoveNanos = nanoClock.getAsLong();
        s.streak = 0;
    }

    /**
     * Closes the current window: the keys whose home should now move to this node's region.
     *
     * @return keys to move (their streaks restart)
     */
    synchronized List<String> evaluate() {
        long nowNanos = nanoClock.getAsLong();
        List<String> move = new ArrayList<>();
        double localMean = localOps == 0 ? 0 : (double) localNanos / localOps;
        long window = settings.evaluateInterval().toNanos();
        long horizon = Math.max(settings.minInterval().toNanos(), window);
        for (Iterator<Map.Entry<String, Stats>> it = keys.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Stats> e = it.next();
            Stats s = e.getValue();
            boolean recentMove = s.moved && nowNanos - s.lastMoveNanos < settings.minInterval().toNanos();
            if (s.mine == 0) {
                if (!recentMove) {
                    it.remove(); // idle: forget it (a later move decision starts from scratch)
                } else {
                    s.streak = 0;
                }
                continue;
            }
            double remoteMean = (double) s.remoteNanos / s.mine;
            double locality = (double) s.mine / (s.mine + s.foreign);
            double expectedOps = (double) s.mine / window * horizon;
            double benefit = (remoteMean - localMean) * expectedOps;
            double cost = 3 * remoteMean;
            boolean qualifies = s.mine >= MIN_OPS && locality >= settings.localityThreshold()
                    && benefit > settings.benefitMargin() * cost;
            s.streak = qualifies ? s.streak + 1 : 0;
            s.mine = 0;
            s.foreign = 0;
            s.remoteNanos = 0;
            if (s.streak >= settings.stableEvaluations() && !recentMove) {
                s.streak = 0;
                move.add(e.getKey());
            }
        }
        localNanos = 0;
        localOps = 0;
        return move;
    }

    /** Keys tracked now (tests). */
    synchronized int tracked() {
        return keys.size();
    }
}
