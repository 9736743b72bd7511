package io.dwcp.core.migration;

import java.time.Duration;

/**
 * When the pre-copy loop stops iterating: after each pre-copy round it predicts how long the final round would take
 * if the guest were paused now, and stops when that fits the downtime budget or when another round would not make it
 * shorter. Pure arithmetic over the rounds' reports; one instance per migration, fed on the migration's thread.
 *
 * <p>The prediction, after round {@code k} (a delta round; {@code T} its duration, {@code W} its wire bytes):
 * <ul>
 *   <li><i>link rate</i> {@code R}: the best goodput of any round so far (round 0, the full state, is the longest
 *       transfer; small rounds show their fixed costs rather than the link);</li>
 *   <li><i>fixed cost</i> {@code F}: the least {@code T − W/R} of the delta rounds so far — what a round costs whatever
 *       it carries: comparing the whole state with the baseline, the round trips, the receiver's verification;</li>
 *   <li><i>what the final round carries</i>: the pages changed during round {@code k}. Round {@code k} carried what
 *       changed during round {@code k−1}, so at a steady dirty rate that is {@code W × T / T(k−1)};</li>
 *   <li>predicted final round {@code P = F + W × T / T(k−1) / R'}, where {@code R'} is {@code R}, or the path's forecast
 *       mean over the next horizon when there is advice ({@code dwcp-prediction}, confident enough) and it is lower:
 *       the final round runs in the near future, and a link foreseen to slow down would make it longer than the best
 *       past round's rate says. A forecast above {@code R} is not used (measurement stays the authority, and a higher
 *       rate would only let the rule stop sooner on a guess).</li>
 * </ul>
 * Stops ({@link #afterRound} returns the reason): {@code converged} when {@code P} fits the budget (after round 0 only
 * when round 0 itself did); {@code not-converging} when {@code P} is at least {@value #NOT_SHRINKING} of {@code T} — the
 * next round would take about as long as this one (the fixed costs dominate, or the guest dirties memory as fast as
 * the link carries it), so iterating further would not shorten the pause — or when {@code T} is no shorter than an
 * earlier delta round (the rounds stopped shrinking: a CPU-bound round 0 understates {@code R}, which understates
 * {@code F}, and then rounds of a steady size never meet the first test), or when what the final round would carry
 * takes at most {@value #SMALL_TRANSFER} of the budget on the link: another round can only shorten the final round by
 * what it would carry, and costs at least the fixed cost in total time, so it cannot buy more than that share of the
 * budget (the fixed cost is paid by the final round whether or not another round runs; an estimate of it inflated by
 * one-off costs of the first delta round, such as the sender's indexes of the new baseline, would otherwise keep the
 * loop iterating for nothing). For this test what the final round carries is taken as {@code W × max(T / T(k−1),}
 * {@value #LEAST_SHRINK}{@code )}: after a long round 0 the steady-rate scaling understates it, because most pages
 * written during any round are a hot set written again in the next (on the WAN the final round after round 1 carried
 * 0.19–0.22 of round 1 where {@code T / T(k−1)} was 0.07–0.09). {@code max-rounds} when the next round would be the last
 * one allowed (the final round counts).
 */
final class StopRule {
    /** A predicted final round at least this share of the round just sent: another round would not help. */
    static final double NOT_SHRINKING = 0.9;
    /** A predicted final-round transfer at most this share of the budget: another round could not save more. */
    static final double SMALL_TRANSFER = 0.25;
    /** For that test, the final round carries at least this share of the round just sent. */
    static final double LEAST_SHRINK = 0.25;

    private final Duration budget;
    private final int maxRounds;
    private int sent;
    private double bestRate;
    private double fixedSeconds = Double.MAX_VALUE;
    private double previousSeconds = -1;
    /** The shortest delta round so far (seconds). */
    private double shortestDeltaSeconds = Double.MAX_VALUE;
    private double predictedSeconds = -1;

    StopRule(Duration budget, int maxRounds) {
        this.budget = budget;
        this.maxRounds = maxRounds;
    }

    /** The reason to stop before any round: {@code max-rounds} when only one round is allowed, else null. */
    String beforeFirstRound() {
        return maxRounds == 1 ? "max-rounds" : null;
    }

    /**
     * Takes the report of a pre-copy round.
     *
     * @param r the round just sent
     * @return why to stop iterating now ({@code converged}, {@code max-rounds}, {@code not-converging}), or null to send
     *     another pre-copy round
     */
    String afterRound(RoundReport r) {
        return afterRound(r, Double.NaN);
    }

    /**
     * Takes the report of a pre-copy round, with the path's forecast rate as advice.
     *
     * @param r the round just sent
     * @param forecastBytesPerSecond the forecast mean rate of the path over the next horizon, in bytes per second, or
     *     NaN without advice; used for the final round's transfer when below the best measured rate
     * @return why to stop iterating now, or null to send another pre-copy round
     */
    String afterRound(RoundReport r, double forecastBytesPerSecond) {
        sent++;
        double t = Math.max(1e-6, r.duration().toNanos() / 1e9);
        bestRate = Math.max(bestRate, r.wireBytes() / t);
        String stop;
        if (sent == 1 || r.keyframe()) {
            // Nothing to predict from yet: a full round says nothing about the fixed cost of a delta.
            predictedSeconds = t;
            stop = t <= budgetSeconds() ? "converged" : null;
        } else {
            double transfer = r.wireBytes() / bestRate;
            fixedSeconds = Math.min(fixedSeconds, Math.max(0, t - transfer));
            double carried = r.wireBytes() * t / previousSeconds;
            double finalRate = forecastBytesPerSecond > 0 ? Math.min(bestRate, forecastBytesPerSecond) : bestRate;
            predictedSeconds = fixedSeconds + carried / finalRate;
            double carriedSeconds = r.wireBytes() * Math.max(t / previousSeconds, LEAST_SHRINK) / finalRate;
            // Not shrinking: the prediction says the next round would take about as long, or this round took no less
            // than an earlier delta round did (the rounds stopped shrinking; the prediction's fixed cost can be too low
            // when round 0's goodput measured the codec rather than the link, so it alone may never say so), or what
            // another round could remove from the final round is a small share of the budget.
            stop = predictedSeconds <= budgetSeconds() ? "converged"
                    : predictedSeconds >= NOT_SHRINKING * t || t >= shortestDeltaSeconds
                    || carriedSeconds <= SMALL_TRANSFER * budgetSeconds() ? "not-converging" : null;
            shortestDeltaSeconds = Math.min(shortestDeltaSeconds, t);
        }
        previousSeconds = t;
        if (stop == null && sent + 1 >= maxRounds) {
            stop = "max-rounds";
        }
        return stop;
    }

    /**
     * The predicted duration of the final round after the last round taken, or -1 before any.
     *
     * @return seconds
     */
    double predictedFinalSeconds() {
        return predictedSeconds;
    }

    private double budgetSeconds() {
        return budget.toNanos() / 1e9;
    }
}
