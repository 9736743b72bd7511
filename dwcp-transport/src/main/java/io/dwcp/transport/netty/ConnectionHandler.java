package io.dwcp.transport.netty;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.transport.wire.Frame;
import io.dwcp.transport.wire.FrameHeader;
import io.dwcp.transport.wire.Frames;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Last handler of an established connection: hands frames to the session (control or data), pumps on writability,
 * reports the close. On an error it sends a GOAWAY with the error code and closes the connection. Event
 * loop only; one instance per channel.
 */
final class ConnectionHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionHandler.class);

    private final AmstSession session;
    /** Null for the control connection. */
    private final DataStream stream;

    ConnectionHandler(AmstSession session, DataStream stream) {
        this.session = session;
        this.stream = stream;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Frame f = (Frame) msg;
        try {
            if (stream == null) {
                session.control.onFrame(f);
            } else {
                session.onDataFrame(stream, f);
            }
        } finally {
            f.release();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (stream != null && ctx.channel().isWritable()) {
            session.pump(stream);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        session.connectionClosed(ctx.channel(), stream);
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        DwcpException d = DwcpException.find(cause);
        if (d != null && d.code() == ErrorCode.CHECKSUM_MISMATCH) {
            session.transport.metrics().crcErrors.increment();
        }
        String where = stream == null ? "control connection" : "data stream " + stream.index;
        if (d == null) {
            // Plain I/O failures (peer reset): the close path re-sends and reconnects; debug only.
            LOG.debug("session {}: {} failed: {}", session.idHex, where, cause.toString());
        } else {
            LOG.warn("session {}: closing {} to {}: {}", session.idHex, where, ctx.channel().remoteAddress(), d.getMessage());
        }
        goAway(ctx.channel(), d);
    }

    /** Sends a GOAWAY with the error (if the channel still writes) and closes. */
    static void goAway(Channel ch, DwcpException d) {
        if (ch.isActive() && d != null) {
            ch.writeAndFlush(Frames.error(ch.alloc(), FrameHeader.TYPE_GOAWAY, 0, d.code(), d.getMessage()))
                    .addListener(ChannelFutureListener.CLOSE);
        } else {
            ch.close();
        }
    }
}
