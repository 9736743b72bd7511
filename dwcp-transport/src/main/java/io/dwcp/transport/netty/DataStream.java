package io.dwcp.transport.netty;

import io.netty.channel.Channel;

/**
 * One data connection of a session. {@link #parked} and {@link #retiring} are guarded by the session lock; the
 * counters are written on the channel's event loop and read by the controller tick.
 */
final class DataStream {
    final int index;
    final Channel channel;
    /** The stream found nothing to send and waits to be woken by a producer. */
    boolean parked;
    /** No new chunks go to this stream; it closes once its chunks are acknowledged (the stream count shrinks). */
    volatile boolean retiring;
    volatile long wireBytesSent;
    long lastWireBytesSent;
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
