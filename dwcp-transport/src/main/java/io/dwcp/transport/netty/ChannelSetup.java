package io.dwcp.transport.netty;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.transport.TransferHandler;
import io.dwcp.core.transport.TransportListener;
import io.dwcp.transport.wire.FrameDecoder;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/*
 * How an AmstTransport's channels are made: the server bootstrap of a listener and the client bootstrap of one
 * connection, each with its pipeline up to the handshake (TLS when on, a frame decoder limited to
 * HANDSHAKE_MAX_PAYLOAD, the handshake handler) and its socket buffers; and the listeners it bound, which stop closes.
 *
 * Threading: thread-safe. It reads the transport's event loops, TLS contexts and settings through its accessors, and
 * only after the transport checked that it runs (those fields are published by its volatile `running`). The listener
 * set is concurrent; `clampWarned` is a once-only flag whose race can at worst log the warning twice.
 */
final class ChannelSetup {
    private static final Logger LOG = LoggerFactory.getLogger(ChannelSetup.class);

    /** Largest payload accepted before a connection's handshake is done (HELLO, HELLO_ACK, GOAWAY). */
    static final int HANDSHAKE_MAX_PAYLOAD = 2048;

    private final AmstTransport transport;
    private final Set<Listener> listeners = ConcurrentHashMap.newKeySet();
    private volatile boolean clampWarned;

    ChannelSetup(AmstTransport transport) {
        this.transport = transport;
    }

    /** Server: binds {@code bindAddress} and completes {@code f} with the listener, or fails it with IO_ERROR. */
    CompletableFuture<TransportListener> listen(InetSocketAddress bindAddress, TransferHandler handler,
                                                CompletableFuture<TransportListener> f) {
        ServerBootstrap b = new ServerBootstrap()
                .group(transport.group())
                .channel(transport.runtime().serverChannel)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.ALLOCATOR, transport.alloc())
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, transport.reads())
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        applySocketBuffers(ch);
                        TlsContexts tls = transport.tls();
                        ChannelPipeline p = ch.pipeline();
                        if (tls != null) {
                            p.addLast("tls", tls.serverHandler(ch.alloc()));
                        }
                        p.addLast("frames", new FrameDecoder(HANDSHAKE_MAX_PAYLOAD));
                        p.addLast("handshake", new ServerHandshakeHandler(transport, handler));
                    }
                });
        b.bind(bindAddress).addListener((ChannelFuture cf) -> {
            if (cf.isSuccess()) {
                Listener l = new Listener(cf.channel());
                listeners.add(l);
                LOG.info("AMST listening on {}", l.localAddress());
                f.complete(l);
            } else {
                f.completeExceptionally(new DwcpException(ErrorCode.IO_ERROR, "cannot listen on " + bindAddress + ": "
                        + cf.cause().getMessage(), cf.cause()));
            }
        });
        return f;
    }

    /** Client: opens one connection of {@code session} and runs its handshake; {@code result} completes on success. */
    CompletableFuture<Channel> connect(AmstSession session, int streamIndex, int flags, CompletableFuture<Channel> result) {
        Settings settings = transport.settings();
        InetSocketAddress remote = session.remoteAddress();
        Bootstrap b = new Bootstrap()
                .group(transport.group())
                .channel(transport.runtime().socketChannel)
                .option(ChannelOption.ALLOCATOR, transport.alloc())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.RCVBUF_ALLOCATOR, transport.reads())
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, settings.connectTimeout.toMillis()))
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        applySocketBuffers(ch);
                        TlsContexts tls = transport.tls();
                        ChannelPipeline p = ch.pipeline();
                        if (tls != null) {
                            p.addLast("tls", tls.clientHandler(ch.alloc(), remote.getHostString(), remote.getPort()));
                        }
                        p.addLast("frames", new FrameDecoder(HANDSHAKE_MAX_PAYLOAD));
                        p.addLast("handshake", new ClientHandshakeHandler(session, streamIndex, flags, tls != null,
                                transport.settings().maxFramePayloadBytes, result));
                    }
                });
        ChannelFuture cf = b.connect(remote);
        cf.addListener((ChannelFuture x) -> {
            if (!x.isSuccess()) {
                result.completeExceptionally(new DwcpException(ErrorCode.IO_ERROR, "cannot connect to " + remote + ": "
                        + x.cause().getMessage(), x.cause()));
            }
        });
        long timeout = settings.connectTimeout.toMillis();
        return result.orTimeout(timeout, TimeUnit.MILLISECONDS).whenComplete((ch, e) -> {
            if (e != null) {
                cf.channel().close();
            }
        });
    }

    private void applySocketBuffers(SocketChannel ch) {
        // "auto": leave the kernel's autotuning on (it grows to tcp_rmem/tcp_wmem max, which an explicit SO_RCVBUF
        // would cap at rmem_max); the write-buffer water marks are sized from the BDP per session.
        Optional<Long> size = transport.settings().socketBufferBytes;
        if (size.isPresent()) {
            int want = (int) Math.min(Integer.MAX_VALUE, size.get());
            ch.config().setSendBufferSize(want);
            ch.config().setReceiveBufferSize(want);
            int got = ch.config().getReceiveBufferSize();
            if (got < want && !clampWarned) {
                clampWarned = true;
                LOG.warn("the OS clamped the socket receive buffer to {} bytes (asked {}, dwcp.transport.socket-buffer): "
                        + "raise net.core.rmem_max / net.core.wmem_max", got, want);
            }
        }
    }

    /** Closes every listener this bound (at stop); each waits up to 5 s for its channel to close. */
    void closeListeners() {
        for (Listener l : listeners) {
            l.close();
        }
    }

    /** A bound listening socket. */
    private final class Listener implements TransportListener {
        private final Channel channel;

        Listener(Channel channel) {
            this.channel = channel;
        }

        @Override
        public InetSocketAddress localAddress() {
            return (InetSocketAddress) channel.localAddress();
        }

        @Override
        public void close() {
            listeners.remove(this);
            channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }
}
