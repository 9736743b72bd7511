package io.dwcp.transport.netty;

import io.netty.channel.Channel;

/**
 * One data connection of a session. Locking: see each field ({@code "lock"} is the {@link SendQueue}'s lock,
 * {@code "channel loop"} this stream's event loop, {@code "loop"} the session's).
 */
final class DataStream {
    final int index;
    final Channel channel;
    /** The stream found nothing to send and waits to be woken by a producer. */
    @GuardedBy("lock")
    boolean parked;
    /**
     * No new chunks go to this stream; it closes once its chunks are acknowledged (the stream count shrinks). Only
     * ever set (false to true), from any thread: volatile, no lock.
     */
    volatile boolean retiring;
    /** Wire bytes written to the channel: written on the channel loop only, read by the controller tick. */
    @GuardedBy("channel loop")
    volatile long wireBytesSent;
    /** TcpInfoSampler's baselines, used by the controller tick only. */
    @GuardedBy("loop")
    long lastWireBytesSent;
    @GuardedBy("loop")
    long lastRetransmits;

    DataStream(int index, Channel channel) {
        this.index = index;
        this.channel = channel;
    }

    @Override
    public String toString() {
        return "stream " + index + " " + channel.remoteAddress();
    }
}
