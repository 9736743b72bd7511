package io.dwcp.core.spi;

import java.time.Duration;

/**
 * What one decode committed.
 *
 * @param key state key
 * @param baseline the baseline the receiver now holds (to acknowledge to the sender)
 * @param encodedBytes frame bytes consumed
 * @param stateBytes bytes of the reconstructed state
 * @param pagesWritten pages written to the replica
 * @param duration wall time from the first frame to commit
 */
public record DecodeResult(String key, BaselineRef baseline, long encodedBytes, long stateBytes, long pagesWritten,
                           Duration duration) {
}
