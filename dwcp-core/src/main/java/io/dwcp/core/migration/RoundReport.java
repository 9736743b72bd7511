package io.dwcp.core.migration;

import java.time.Duration;
import java.util.Map;

/**
 * What one pre-copy round did.
 *
 * @param key state key
 * @param round round number, 0 = the first (full) round
 * @param keyframe whether the round sent the full state (no baseline)
 * @param fallback whether a delta was planned but the receiver's baseline was missing or different, so the round
 *     fell back to a keyframe by itself
 * @param inputBytes state bytes of the round
 * @param encodedBytes codec output bytes
 * @param wireBytes bytes the transport wrote to sockets (framing and re-sends included), plus the seed exchange's
 *     {@code seedBytes}
 * @param duration wall time from the start of the round to the receiver's verified commit
 * @param streams data streams the transport used
 * @param pagesByClass codec page counts per class (for a seeded round: {@code unchanged}, {@code zero}, {@code copied}
 *     and {@code literal} pages)
 * @param mode which path the round took
 * @param seedBytes payload bytes of the seed exchange (the description of the receiver's replica, both directions),
 *     also when the round then took another path; 0 when there was none
 * @param encodeDuration wall time from the start of the round until the sender had produced its last frame (reading
 *     and comparing the state, encoding); the rest of {@code duration} is the transfer's tail and the receiver's
 *     verification and commit. At most {@code duration}.
 */
public record RoundReport(String key, int round, boolean keyframe, boolean fallback, long inputBytes, long encodedBytes,
                          long wireBytes, Duration duration, int streams, Map<String, Long> pagesByClass, Mode mode,
                          long seedBytes, Duration encodeDuration) {
    /** The path a round took. */
    public enum Mode {
        /** A codec delta against the baseline the receiver confirmed. */
        DELTA,
        /** The whole state through the codec (a keyframe). */
        FULL,
        /** Replica-seeded: only the pages the receiver's replica (or seed image) does not have. */
        SEEDED
    }

    /**
     * Checks the components.
     *
     * @param key state key
     * @param round round number, 0 = the first (full) round
     * @param keyframe whether the round sent the full state (no baseline)
     * @param fallback whether a delta was planned but the receiver's baseline was missing or different, so the round
     *     fell back to a keyframe by itself
     * @param inputBytes state bytes of the round
     * @param encodedBytes codec output bytes
     * @param wireBytes bytes the transport wrote to sockets (framing and re-sends included)
     * @param duration wall time from the start of the round to the receiver's verified commit
     * @param streams data streams the transport used
     * @param pagesByClass codec page counts per class
     * @param mode which path the round took
     * @param seedBytes payload bytes of the seed exchange, 0 when there was none
     * @param encodeDuration wall time from the start of the round until its last frame was produced; at most
     *     {@code duration}
     */
    public RoundReport {
        pagesByClass = Map.copyOf(pagesByClass);
        java.util.Objects.requireNonNull(mode, "mode");
        java.util.Objects.requireNonNull(encodeDuration, "encodeDuration");
        if (encodeDuration.compareTo(duration) > 0) {
            encodeDuration = duration;
        }
    }

    /**
     * A codec round without a seed exchange: {@link Mode#FULL} for a keyframe, else {@link Mode#DELTA}.
     *
     * @param key state key
     * @param round round number, 0 = the first (full) round
     * @param keyframe whether the round sent the full state (no baseline)
     * @param fallback whether a delta was planned but the receiver's baseline was missing or different
     * @param inputBytes state bytes of the round
     * @param encodedBytes codec output bytes
     * @param wireBytes bytes the transport wrote to sockets (framing and re-sends included)
     * @param duration wall time from the start of the round to the receiver's verified commit
     * @param streams data streams the transport used
     * @param pagesByClass codec page counts per class
     * @param encodeDuration wall time from the start of the round until its last frame was produced
     */
    public RoundReport(String key, int round, boolean keyframe, boolean fallback, long inputBytes, long encodedBytes,
                       long wireBytes, Duration duration, int streams, Map<String, Long> pagesByClass,
                       Duration encodeDuration) {
        this(key, round, keyframe, fallback, inputBytes, encodedBytes, wireBytes, duration, streams, pagesByClass,
                keyframe ? Mode.FULL : Mode.DELTA, 0, encodeDuration);
    }

    /**
     * inputBytes ÷ wireBytes.
     *
     * @return the ratio
     */
    public double ratio() {
        return wireBytes == 0 ? 0 : (double) inputBytes / wireBytes;
    }

    /**
     * Wire bits per second over the round.
     *
     * @return the goodput
     */
    public double goodputBitsPerSecond() {
        double s = duration.toNanos() / 1e9;
        return s <= 0 ? 0 : wireBytes * 8 / s;
    }
}
