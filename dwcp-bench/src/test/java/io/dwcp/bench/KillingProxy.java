package io.dwcp.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A loopback TCP proxy for fault tests: forwards every accepted connection to {@code target}, and once armed, cuts
 * the busiest connection (the one that has carried the most client→server bytes: a data stream, never the idle
 * control connection) as soon as the total forwarded passes a threshold — a real socket reset in the middle of a
 * round, not a simulated one. Owns its threads and sockets; {@link #close()} releases them.
 */
final class KillingProxy implements AutoCloseable {
    private final ServerSocket server;
    private final InetSocketAddress target;
    private final List<Pair> pairs = new CopyOnWriteArrayList<>();
    private final AtomicLong forwarded = new AtomicLong();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile long killAfterBytes = Long.MAX_VALUE;
    private final AtomicBoolean killed = new AtomicBoolean();
    private final Thread acceptor;

    KillingProxy(InetSocketAddress target) throws IOException {
        this.target = target;
        this.server = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        this.acceptor = new Thread(this::acceptLoop, "proxy-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    InetSocketAddress address() {
        return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
    }

    /** Cuts the busiest connection once {@code bytes} more have been forwarded client→server. */
    void killBusiestAfter(long bytes) {
        killed.set(false);
        killAfterBytes = forwarded.get() + bytes;
    }

    boolean killedOne() {
        return killed.get();
    }

    int connectionsAccepted() {
        return pairs.size();
    }

    private void acceptLoop() {
        while (!closed.get()) {
            try {
                Socket client = server.accept();
                Socket upstream = new Socket(target.getAddress(), target.getPort());
                client.setTcpNoDelay(true);
                upstream.setTcpNoDelay(true);
                Pair p = new Pair(client, upstream);
                pairs.add(p);
                p.start();
            } catch (IOException e) {
                if (!closed.get()) {
                    // an accept or connect failure ends this connection only
                    continue;
                }
                return;
            }
        }
    }

    private void maybeKill() {
        if (forwarded.get() >= killAfterBytes && killed.compareAndSet(false, true)) {
            killAfterBytes = Long.MAX_VALUE;
            Pair busiest = null;
            for (Pair p : pairs) {
                if (!p.dead && (busiest == null || p.upBytes.get() > busiest.upBytes.get())) {
                    busiest = p;
                }
            }
            if (busiest != null) {
                busiest.cut();
            }
        }
    }

    @Override
    public void close() throws IOException {
        if (closed.compareAndSet(false, true)) {
            server.close();
            for (Pair p : pairs) {
                p.cut();
            }
        }
    }

    private final class Pair {
        final Socket client;
        final Socket upstream;
        final AtomicLong upBytes = new AtomicLong();
        volatile boolean dead;

        Pair(Socket client, Socket upstream) {
            this.client = client;
            this.upstream = upstream;
        }

        void start() {
            pump(client, upstream, true);
            pump(upstream, client, false);
        }

        private void pump(Socket from, Socket to, boolean up) {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[64 * 1024];
                try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        out.write(buf, 0, n);
                        if (up) {
                            upBytes.addAndGet(n);
                            forwarded.addAndGet(n);
                            maybeKill();
                        }
                    }
                } catch (IOException e) {
                    // the connection ended or was cut: close both sides below
                } finally {
                    cut();
                }
            }, "proxy-pump");
            t.setDaemon(true);
            t.start();
        }

        void cut() {
            dead = true;
            try {
                client.setSoLinger(true, 0); // RST, like a dying host or middlebox
                client.close();
            } catch (IOException ignored) {
                // already closed
            }
            try {
                upstream.setSoLinger(true, 0);
                upstream.close();
            } catch (IOException ignored) {
                // already closed
            }
        }
    }
}
