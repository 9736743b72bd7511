package io.dwcp.transport.netty;

import io.dwcp.transport.wire.FrameDecoder;
import io.dwcp.transport.wire.FrameHeader;
import io.dwcp.transport.wire.Frames;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/*
 * The first connection's one-off work, done once per process on a daemon thread of its own while the node still
 * starts, instead of on the critical path of its first session: Netty's channel, pipeline, bootstrap, event-loop and
 * pooled-buffer code loaded and initialised (the pooled allocator's first chunk also registers its flight-recorder
 * event types), and the frame decoder run. It makes one exchange over the loopback interface on a private one-thread
 * event loop: a listener on port 0, one connection to it, a PING frame one way and a PONG back, then everything
 * closed. No session, handler or setting of any transport is involved. The listener lives for the exchange's length
 * (milliseconds) on the loopback address only; a stray local connection to it in that time gets a PONG for each
 * frame it sends and is closed with it.
 *
 * Why: a new sender's connect to a receiver, and a new receiver's first accepted session, each spent about 0.1–0.2 s
 * of CPU loading this code (measured on a 2-core host, C1 only), on top of the round trips.
 *
 * Ownership: this class owns the thread, the event loop, both channels and every buffer of the exchange; run() closes
 * them in its finally block and ends within TIMEOUT. A failure (no loopback, a sandbox without sockets, the timeout) is
 * logged at debug level and changes nothing else: the first session then loads the code itself, as it always did.
 * Started at most once per process (STARTED), only by AmstTransport.warmUpInBackground (opt-in: the command-line
 * tool calls it; creating a transport does not).
 */
final class ConnectionWarmup {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionWarmup.class);
    /** The longest the exchange may take before it is given up. */
    static final Duration TIMEOUT = Duration.ofSeconds(5);
    private static final AtomicBoolean STARTED = new AtomicBoolean();

    private ConnectionWarmup() {
    }

    /** Starts the warm-up on a daemon thread unless it was started before in this process. */
    static void startOnce() {
        start(STARTED);
    }

    /**
     * Starts the warm-up on a daemon thread unless {@code once} is already set; sets it.
     *
     * @return the thread started, or null when {@code once} was set
     */
    static Thread start(AtomicBoolean once) {
        if (!once.compareAndSet(false, true)) {
            return null;
        }
        Thread t = new Thread(() -> {
            long start = System.nanoTime();
            InetSocketAddress used = run();
            LOG.debug("connection path warm-up {} in {} ms", used != null ? "done" : "given up",
                    (System.nanoTime() - start) / 1_000_000);
        }, "dwcp-transport-warmup");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /**
     * One PING/PONG exchange over a loopback connection, on the calling thread. Closes everything it opened, also when
     * it fails.
     *
     * @return the address the listener had, when the exchange completed; null when it failed or timed out
     */
    static InetSocketAddress run() {
        ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
        EventLoopGroup group = null;
        Channel server = null;
        Channel client = null;
        try {
            // The slowest one-off step first: the pooled allocator's arenas, thread cache and first chunks (and, where
            // Netty's flight-recorder events are on, their registration), taken by every session's first buffer.
            alloc.directBuffer(ChannelSetup.HANDSHAKE_MAX_PAYLOAD).release();
            alloc.heapBuffer(ChannelSetup.HANDSHAKE_MAX_PAYLOAD).release();
            NettyRuntime runtime = new NettyRuntime(true);
            group = runtime.newGroup(1, "dwcp-transport-warmup-io");
            CompletableFuture<Boolean> pong = new CompletableFuture<>();
            server = new ServerBootstrap().group(group).channel(runtime.serverChannel)
                    .childOption(ChannelOption.ALLOCATOR, alloc)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new FrameDecoder(ChannelSetup.HANDSHAKE_MAX_PAYLOAD), new Answer());
                        }
                    })
                    .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                    .syncUninterruptibly().channel();
            client = new Bootstrap().group(group).channel(runtime.socketChannel)
                    .option(ChannelOption.ALLOCATOR, alloc)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) TIMEOUT.toMillis())
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new FrameDecoder(ChannelSetup.HANDSHAKE_MAX_PAYLOAD),
                                    new ChannelInboundHandlerAdapter() {
                                        @Override
                                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                            ReferenceCountUtil.release(msg);
                                            pong.complete(true);
                                        }
                                    });
                        }
                    })
                    .connect(server.localAddress())
                    .syncUninterruptibly().channel();
            client.writeAndFlush(Frames.ping(alloc, FrameHeader.TYPE_PING, System.nanoTime()));
            pong.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            return (InetSocketAddress) server.localAddress();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (Exception e) {
            LOG.debug("connection path warm-up failed (the first session loads that code itself): {}", e.toString());
            return null;
        } finally {
            if (client != null) {
                client.close().awaitUninterruptibly(TIMEOUT.toMillis());
            }
            if (server != null) {
                server.close().awaitUninterruptibly(TIMEOUT.toMillis());
            }
            if (group != null) {
                group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS).awaitUninterruptibly(TIMEOUT.toMillis());
            }
        }
    }

    /** The listener's side: answers a frame with a PONG. */
    private static final class Answer extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
            ctx.writeAndFlush(Frames.ping(ctx.alloc(), FrameHeader.TYPE_PONG, 0));
        }
    }
}
