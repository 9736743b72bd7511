package io.dwcp.transport.netty;

import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.epoll.EpollTcpInfo;

import java.util.List;
import java.util.function.BiConsumer;
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
        long[] retransAndSegments = new long[2];
        forEachActive(streams, (s, info) -> {
            long r = info.totalRetrans();
            long mss = Math.max(536, info.sndMss());
            long sent = s.wireBytesSent;
            retransAndSegments[0] += r - s.lastRetransmits;
            retransAndSegments[1] += (sent - s.lastWireBytesSent) / mss;
            s.lastRetransmits = r;
            s.lastWireBytesSent = sent;
        });
        long segments = retransAndSegments[1];
        return segments < 1000 ? Double.NaN : (double) retransAndSegments[0] / segments;
    }

    /** Mean kernel smoothed RTT over the streams, 0 when unknown. */
    static long smoothedRttNanos(List<DataStream> streams) {
        long[] sumAndCount = new long[2];
        forEachActive(streams, (s, info) -> {
            if (info.rtt() > 0) {
                sumAndCount[0] += info.rtt() * 1000;
                sumAndCount[1]++;
            }
        });
        return sumAndCount[1] == 0 ? 0 : sumAndCount[0] / sumAndCount[1];
    }

    /** Sum of one TCP_INFO field over the active streams (0 on NIO). */
    static long sum(List<DataStream> streams, ToLongFunction<EpollTcpInfo> field) {
        long[] sum = new long[1];
        forEachActive(streams, (s, info) -> sum[0] += field.applyAsLong(info));
        return sum[0];
    }

    /** Reads TCP_INFO of every active epoll stream into one reused holder and hands it over with the stream. */
    private static void forEachActive(List<DataStream> streams, BiConsumer<DataStream, EpollTcpInfo> each) {
        EpollTcpInfo info = new EpollTcpInfo();
        for (DataStream s : streams) {
            if (s.channel instanceof EpollSocketChannel && s.channel.isActive()) {
                ((EpollSocketChannel) s.channel).tcpInfo(info);
                each.accept(s, info);
            }
        }
    }
}
