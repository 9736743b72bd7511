package io.dwcp.sync;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A TCP proxy on loopback that forwards one direction of the cluster (node j's connections to node i) and injects
 * faults: a partition (every connection closed, new ones closed at once), a delay per forwarded read, and connection
 * resets with a probability per forwarded read. The target port can change (a restarted node). Thread-safe; closes
 * every socket and stops its threads on {@link #close()}.
 */
final class FaultProxy implements AutoCloseable {
    private final ServerSocket server;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final Random random;
    private final Thread acceptor;
    private volatile int targetPort;
    private volatile boolean blocked;
    private volatile int delayMillis;
    private volatile double resetProbability;
    private volatile boolean closed;

    FaultProxy(int targetPort, long seed) throws IOException {
        this.targetPort = targetPort;
        this.random = new Random(seed);
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.acceptor = new Thread(this::acceptLoop, "fault-proxy-accept-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    void target(int port) {
        this.targetPort = port;
    }

    /** Partition: closes every connection and refuses new ones until unblocked. */
    void blocked(boolean b) {
        this.blocked = b;
        if (b) {
            closeAll();
        }
    }

    void delayMillis(int ms) {
        this.delayMillis = ms;
    }

    void resetProbability(double p) {
        this.resetProbability = p;
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            if (blocked) {
                quietClose(client);
                continue;
            }
            Socket upstream = new Socket();
            try {
                upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), 2000);
            } catch (IOException e) {
                quietClose(client);
                quietClose(upstream);
                continue;
            }
            open.add(client);
            open.add(upstream);
            pump(client, upstream);
            pump(upstream, client);
        }
    }

    private void pump(Socket from, Socket to) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16384];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    if (blocked) {
                        break;
                    }
                    int d = delayMillis;
                    if (d > 0) {
                        TimeUnit.MILLISECONDS.sleep(random.nextInt(d + 1)); // injected latency, not synchronisation
                    }
                    double p = resetProbability;
                    if (p > 0 && nextDouble() < p) {
                        break;
                    }
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // connection ended; the pair is closed below
            } finally {
                quietClose(from);
                quietClose(to);
                open.remove(from);
                open.remove(to);
            }
        }, "fault-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    private synchronized double nextDouble() {
        return random.nextDouble();
    }

    private void closeAll() {
        for (Socket s : open) {
            quietClose(s);
        }
        open.clear();
    }

    private static void quietClose(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // closing a test proxy's socket: nothing to recover
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        closeAll();
        try {
            acceptor.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
