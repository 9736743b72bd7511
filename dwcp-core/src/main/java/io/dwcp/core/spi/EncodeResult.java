package io.dwcp.core.spi;

import java.time.Duration;
import java.util.Map;

/**
 * What one encode produced.
 *
 * @param key state key
 * @param keyframe whether the round was a full state (no baseline)
 * @param against baseline the delta was encoded against; {@code null} for a keyframe
 * @param produced the baseline the receiver holds after decoding these frames; the sender references it only after
 *     the receiver acknowledged it ({@link StateCodec#acknowledge})
 * @param inputBytes state bytes considered
 * @param encodedBytes frame bytes emitted
 * @param pagesByClass page counts per class ({@code zero}, {@code unchanged}, {@code moved}, …)
 * @param duration wall time of the encode
 */
public record EncodeResult(String key, boolean keyframe, BaselineRef against, BaselineRef produced, long inputBytes,
                           long encodedBytes, Map<String, Long> pagesByClass, Duration duration) {
    /**
     * Checks the components.
     *
     * @param key state key
     * @param keyframe whether the round was a full state (no baseline)
     * @param against baseline the delta was encoded against; {@code null} for a keyframe
     * @param produced the baseline the receiver holds after decoding these frames; the sender references it only after
     *     the receiver acknowledged it ({@link StateCodec#acknowledge})
     * @param inputBytes state bytes considered
     * @param encodedBytes frame bytes emitted
     * @param pagesByClass page counts per class ({@code zero}, {@code unchanged}, {@code moved}, …)
     * @param duration wall time of the encode
     */
    public EncodeResult {
        pagesByClass = Map.copyOf(pagesByClass);
    }

    /**
     * inputBytes ÷ encodedBytes (∞ for an empty encoding of a non-empty input).
     *
     * @return the ratio
     */
    public double ratio() {
        return encodedBytes == 0 ? (inputBytes == 0 ? 1 : Double.POSITIVE_INFINITY) : (double) inputBytes / encodedBytes;
    }
}
