package io.dwcp.sync;

/**
 * Counters of one sync component since it was created (the same figures as its meters), for tools and benchmarks.
 *
 * @param deltaMessagesSent gossip messages delivered (pushes, rumour forwards, state rounds; a transfer that failed is
 *     not counted)
 * @param deltaBytesSent bytes of those messages
 * @param antiEntropyBytesSent bytes of anti-entropy requests and responses sent
 * @param bytesSent all sync bytes sent
 * @param bytesReceived all sync bytes received
 * @param antiEntropyRoundsOk rounds completed
 * @param antiEntropyRoundsFailed rounds that failed (timeout, peer unreachable, protocol error)
 * @param keysExchanged keys pulled or pushed by anti-entropy
 * @param rejected inbound messages or entries dropped (malformed, oversized, unknown type, type mismatch)
 * @param duplicates gossip messages received again
 * @param clockSkewAlarms messages whose clock was ahead by more than max-clock-skew
 */
public record SyncStats(long deltaMessagesSent, long deltaBytesSent, long antiEntropyBytesSent, long bytesSent,
                        long bytesReceived, long antiEntropyRoundsOk, long antiEntropyRoundsFailed, long keysExchanged,
                        long rejected, long duplicates, long clockSkewAlarms) {
}
