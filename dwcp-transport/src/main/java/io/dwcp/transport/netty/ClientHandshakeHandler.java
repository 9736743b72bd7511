package io.dwcp.transport.netty;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.transport.wire.Frame;
import io.dwcp.transport.wire.FrameDecoder;
import io.dwcp.transport.wire.FrameHeader;
import io.dwcp.transport.wire.Frames;
import io.dwcp.transport.wire.Hello;
import io.dwcp.transport.wire.HelloAck;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;

import java.util.concurrent.CompletableFuture;

/**
 * Connecting side of the handshake: sends HELLO once the connection (and TLS) is up, waits for HELLO_ACK,
 * attaches the connection to the session synchronously on the event loop (so frames right after the HELLO_ACK find
 * their handler) and replaces itself with a {@link ConnectionHandler}. Event loop only; one per channel.
 */
final class ClientHandshakeHandler extends ChannelInboundHandlerAdapter {
    private final AmstSession session;
    private final int streamIndex;
    private final int flags;
    private final boolean tls;
    private final int maxFramePayloadBytes;
    private final CompletableFuture<Channel> result;

    ClientHandshakeHandler(AmstSession session, int streamIndex, int flags, boolean tls, int maxFramePayloadBytes,
                           CompletableFuture<Channel> result) {
        this.session = session;
        this.streamIndex = streamIndex;
        this.flags = flags;
        this.tls = tls;
        this.maxFramePayloadBytes = maxFramePayloadBytes;
        this.result = result;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (!tls) {
            sendHello(ctx);
        }
        ctx.fireChannelActive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent) {
            SslHandshakeCompletionEvent e = (SslHandshakeCompletionEvent) evt;
            if (e.isSuccess()) {
                sendHello(ctx);
            } else {
                fail(ctx, new DwcpException(ErrorCode.AUTH_FAILED, "TLS handshake with " + ctx.channel().remoteAddress()
                        + " failed: " + TlsFailures.describe(e.cause()), e.cause()));
            }
        }
        ctx.fireUserEventTriggered(evt);
    }

    private void sendHello(ChannelHandlerContext ctx) {
        Hello h = new Hello(session.sessionId, streamIndex, Hello.CAPABILITIES, session.receiveWindowBytes(),
                (flags & FrameHeader.FLAG_RESUME) != 0 || streamIndex > 0 ? session.resumeToken() : new byte[16]);
        ctx.writeAndFlush(h.encode(ctx.alloc(), flags));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Frame f = (Frame) msg;
        try {
            if (f.type() == FrameHeader.TYPE_GOAWAY) {
                throw new DwcpException(Frames.errorCode(f.payload()), "refused by " + ctx.channel().remoteAddress()
                        + ": " + Frames.errorMessage(f.payload()));
            }
            HelloAck ack = HelloAck.decode(f);
            if (!ack.accepted()) {
                throw new DwcpException(ack.code(), "refused by " + ctx.channel().remoteAddress() + ": " + ack.message());
            }
            ctx.pipeline().get(FrameDecoder.class).maxPayloadBytes(maxFramePayloadBytes);
            ConnectionHandler next;
            if (streamIndex == 0) {
                session.peerWindow(ack.receiveWindowBytes());
                if ((flags & FrameHeader.FLAG_RESUME) == 0) {
                    session.resumeToken(ack.resumeToken());
                }
                session.attachControl(ctx.channel());
                next = new ConnectionHandler(session, null);
            } else {
                next = new ConnectionHandler(session, session.attachStream(streamIndex, ctx.channel()));
            }
            ctx.pipeline().replace(this, "amst", next);
            result.complete(ctx.channel());
        } catch (DwcpException e) {
            fail(ctx, e);
        } finally {
            f.release();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        result.completeExceptionally(new DwcpException(ErrorCode.IO_ERROR, "connection to "
                + ctx.channel().remoteAddress() + " closed during the handshake"));
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        DwcpException d = DwcpException.find(cause);
        if (d == null && isTlsFailure(cause)) {
            // With TLS 1.3 the server checks our certificate after our side of the handshake is done: its alert
            // arrives here.
            d = new DwcpException(ErrorCode.AUTH_FAILED, "TLS with " + ctx.channel().remoteAddress() + " failed: "
                    + TlsFailures.describe(cause), cause);
        }
        fail(ctx, d != null ? d : new DwcpException(ErrorCode.IO_ERROR, "handshake with " + ctx.channel().remoteAddress()
                + " failed: " + cause, cause));
    }

    static boolean isTlsFailure(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof javax.net.ssl.SSLException) {
                return true;
            }
        }
        return false;
    }

    private void fail(ChannelHandlerContext ctx, DwcpException e) {
        result.completeExceptionally(e);
        ctx.close();
    }
}
