package io.dwcp.transport.netty;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.transport.TransferHandler;
import io.dwcp.transport.wire.Frame;
import io.dwcp.transport.wire.FrameDecoder;
import io.dwcp.transport.wire.FrameHeader;
import io.dwcp.transport.wire.Hello;
import io.dwcp.transport.wire.HelloAck;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.concurrent.ScheduledFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Accepting side of the handshake: the first frame must be a HELLO within connect-timeout; the transport
 * decides (new session, resume, data stream, or refusal with a code) and this handler answers with HELLO_ACK and
 * replaces itself with a {@link ConnectionHandler}. Anything else closes the connection with a GOAWAY that names
 * the error. Event loop only; one per channel.
 */
final class ServerHandshakeHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(ServerHandshakeHandler.class);

    private final AmstTransport transport;
    private final TransferHandler handler;
    private ScheduledFuture<?> timeout;
    private boolean done;
    /** The peer address whose place in {@link PendingConnections} this connection holds; null when it holds none. */
    private String pendingPlace;
    /** This connection was refused and holds a place among the refused ones until it closes. */
    private boolean refusedPlace;
    /** How long a connection refused for the pending-connection caps is held, unread, before it is told and closed. */
    static final long REFUSAL_LINGER_NANOS = TimeUnit.SECONDS.toNanos(5);

    ServerHandshakeHandler(AmstTransport transport, TransferHandler handler) {
        this.transport = transport;
        this.handler = handler;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        java.net.SocketAddress remote = ctx.channel().remoteAddress();
        String peer = remote instanceof java.net.InetSocketAddress i && i.getAddress() != null
                ? i.getAddress().getHostAddress() : String.valueOf(remote);
        try {
            transport.pendingConnections().acquire(peer);
            pendingPlace = peer;
        } catch (DwcpException e) {
            // Refused before the handshake: logged at DEBUG only, a flood of them must not flood the log too. The
            // connection is held unread for a few seconds first, so a peer that reconnects whenever it is dropped
            // cannot spin against the listener; past the cap of such held connections it is closed at once.
            done = true;
            transport.metrics().handshakeReject("limit_exceeded");
            LOG.debug("refused a connection from {}: {}", remote, e.getMessage());
            ctx.channel().config().setAutoRead(false);
            if (!transport.pendingConnections().holdRefused()) {
                ctx.close();
                return;
            }
            refusedPlace = true;
            long linger = Math.min(REFUSAL_LINGER_NANOS, transport.settings().connectTimeout.toNanos());
            ctx.executor().schedule(() -> {
                if (ctx.pipeline().get("tls") == null) {
                    ConnectionHandler.goAway(ctx.channel(), e);
                } else {
                    ctx.close(); // nothing can be said before TLS is negotiated
                }
            }, linger, TimeUnit.NANOSECONDS);
            return;
        }
        long nanos = transport.settings().connectTimeout.toNanos();
        timeout = ctx.executor().schedule(() -> {
            if (!done) {
                reject(ctx, new DwcpException(ErrorCode.TIMEOUT, "no HELLO within "
                        + transport.settings().connectTimeout + " (dwcp.transport.connect-timeout)"));
            }
        }, nanos, TimeUnit.NANOSECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent && !((SslHandshakeCompletionEvent) evt).isSuccess()) {
            Throwable c = ((SslHandshakeCompletionEvent) evt).cause();
            transport.metrics().handshakeReject("auth_failed");
            LOG.warn("TLS handshake from {} rejected (AUTH_FAILED): {}", ctx.channel().remoteAddress(), TlsFailures.describe(c));
            done = true;
            releasePlace();
            ctx.close();
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Frame f = (Frame) msg;
        try {
            if (done) {
                return;
            }
            Hello hello = Hello.decode(f);
            SessionTable.Accepted a = transport.sessionTable().acceptHello(ctx.channel(), hello, f.flags(), handler);
            done = true;
            releasePlace();
            if (timeout != null) {
                timeout.cancel(false);
            }
            if (!a.ack().accepted()) {
                transport.metrics().handshakeReject(a.ack().code().name().toLowerCase(Locale.ROOT));
                LOG.warn("refused a connection from {}: {} {}", ctx.channel().remoteAddress(), a.ack().code(), a.ack().message());
                ctx.writeAndFlush(a.ack().encode(ctx.alloc())).addListener(ChannelFutureListener.CLOSE);
                return;
            }
            ctx.pipeline().get(FrameDecoder.class).maxPayloadBytes(transport.settings().maxFramePayloadBytes);
            ctx.writeAndFlush(a.ack().encode(ctx.alloc()));
            ctx.pipeline().replace(this, "amst", new ConnectionHandler(a.session(), a.stream()));
            a.afterAck().run();
        } catch (DwcpException e) {
            reject(ctx, e);
        } finally {
            f.release();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        DwcpException d = DwcpException.find(cause);
        reject(ctx, d != null ? d : new DwcpException(ErrorCode.IO_ERROR, cause.toString(), cause));
    }

    private void reject(ChannelHandlerContext ctx, DwcpException e) {
        if (timeout != null) {
            timeout.cancel(false);
        }
        done = true;
        releasePlace();
        if (e.code() == ErrorCode.CHECKSUM_MISMATCH) {
            transport.metrics().crcErrors.increment();
        }
        transport.metrics().handshakeReject(e.code().name().toLowerCase(Locale.ROOT));
        LOG.warn("closing connection from {} during the handshake: {}", ctx.channel().remoteAddress(), e.getMessage());
        ConnectionHandler.goAway(ctx.channel(), e);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (timeout != null) {
            timeout.cancel(false);
        }
        releasePlace();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        releasePlace(); // replaced by the connection handler, or the pipeline torn down
    }

    /** Gives this connection's place among the pending (or the refused) connections back, once. */
    private void releasePlace() {
        if (pendingPlace != null) {
            transport.pendingConnections().release(pendingPlace);
            pendingPlace = null;
        }
        if (refusedPlace) {
            transport.pendingConnections().releaseRefused();
            refusedPlace = false;
        }
    }

    static boolean isResume(int flags) {
        return (flags & FrameHeader.FLAG_RESUME) != 0;
    }
}
