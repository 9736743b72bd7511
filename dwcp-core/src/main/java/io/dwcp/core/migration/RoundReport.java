package io.dwcp.core.migration;

import java.time.Duration;
import java.util.Map;

/**
 * What one pre-copy round did (CORE-5).
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
 */
public record RoundReport(String key, int round, boolean keyframe, boolean fallback, long inputBytes, long encodedBytes,
                          long wireBytes, Duration duration, int streams, Map<String, Long> pagesByClass) {
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
     */
    public RoundReport {
        pagesByClass = Map.copyOf(pagesByClass);
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
