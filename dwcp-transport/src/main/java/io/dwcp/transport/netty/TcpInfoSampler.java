package io.dwcp.transport.netty;

import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.epoll.EpollTcpInfo;

import java.util.List;
import java.util.function.ToLongFunction;

/**
 * Reads the kernel's TCP_INFO of a session's data streams (epoll only; NIO streams are skipped): the loss rate of
 * the last controller period, the smoothed RTT, and sums for the meters. {@link #lossRate} updates the per-stream
 * baselines ({@link DataStream#lastRetransmits}, {@link DataStream#lastWireBytesSent}), so it runs only on the
 * session's event loop, once per period; the other methods only read and run on any thread.
 */
final class TcpInfoSampler {
    private TcpInfoSampler() {
    }

    /** Retransmitted ÷ sent segments since the last call, NaN when unknown (NIO, fewer than 1000 segments sent). */
    @GuardedBy("loop")
    static double lossRate(List<DataStream> streams) {
        long retrans = 0;
        long segments = 0;
        EpollTcpInfo info = new EpollTcpInfo();
        for (DataStream s : streams) {
            if (s.channel instanceof EpollSocketChannel && s.channel.isActive()) {
                ((EpollSocketChannel) s.channel).tcpInfo(info);
                long r = info.totalRetrans();
                long mss = Math.max(536, info.sndMss());
                long sent = s.wireBytesSent;
                retrans += r - s.lastRetransmits;
                segments += (sent - s.lastWireBytesSent) / mss;
                s.lastRetransmits = r;
                s.lastWireBytesSent = sent;
            }
        }
        return segments < 1000 ? Double.NaN : (double) retrans / segments;
    }

    /** Mean kernel smoothed RTT over the streams, 0 when unknown. */
    static long smoothedRttNanos(List<DataStream> streams) {
        long sum = 0;
        int n = 0;
        EpollTcpInfo info = new EpollTcpInfo();
        for (DataStream s : streams) {
            if (s.channel instanceof EpollSocketChannel && s.channel.isActive()) {
                ((EpollSocketChannel) s.channel).tcpInfo(info);
                if (info.rtt() > 0) {
                    sum += info.rtt() * 1000;
                    n++;
                }
            }
        }
        return n == 0 ? 0 : sum / n;
    }

    /** Sum of one TCP_INFO field over the active streams (0 on NIO). */
    static long sum(List<DataStream> streams, ToLongFunction<EpollTcpInfo> field) {
        long sum = 0;
        EpollTcpInfo info = new EpollTcpInfo();
        for (DataStream s : streams) {
            if (s.channel instanceof EpollSocketChannel && s.channel.isActive()) {
                ((EpollSocketChannel) s.channel).tcpInfo(info);
                sum += field.applyAsLong(info);
            }
        }
        return sum;
    }
}
