package io.dwcp.core.transport;

import java.time.Duration;

/**
 * Outcome of a completed transfer.
 *
 * @param payloadBytes application bytes delivered
 * @param wireBytes bytes written to sockets for this transfer, framing and re-sends included
 * @param duration from {@code send} to the final acknowledgement
 * @param streams data streams used (the maximum during the transfer)
 * @param resentChunks chunks sent again after a stream failed or a CRC error
 */
public record TransferResult(long payloadBytes, long wireBytes, Duration duration, int streams, long resentChunks) {
    /** {@return goodput in bits per second} */
    public double goodputBitsPerSecond() {
        double seconds = duration.toNanos() / 1e9;
        return seconds <= 0 ? 0 : payloadBytes * 8 / seconds;
    }
}
