package io.dwcp.transport.netty;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

/**
 * A loopback TCP proxy for tests that need to order events across a connection deterministically: once
 * {@link #holdNewConnections()} is called, the bytes that the server sends on connections accepted after it are kept
 * back (not forwarded to the client) until {@link #release()}. {@link #held} counts down when the first such bytes
 * arrive, {@link #clientClosedHeld} when the client closes a held connection (an orderly end of its bytes, not a
 * close by the proxy or the server). Blocking I/O, two threads per
 * connection; close it to stop everything.
 */
final class HoldingProxy implements AutoCloseable {
    private final ServerSocket server;
    private final InetSocketAddress target;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final Thread acceptor;
    private volatile boolean holdNew;
    private final CountDownLatch releaseGate = new CountDownLatch(1);
    final CountDownLatch held = new CountDownLatch(1);
    final CountDownLatch clientClosedHeld = new CountDownLatch(1);

    HoldingProxy(InetSocketAddress target) throws IOException {
        this.target = target;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.acceptor = new Thread(this::acceptLoop, "holding-proxy-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), server.getLocalPort());
    }

    /** Connections accepted from now on forward nothing from the server to the client until {@link #release()}. */
    void holdNewConnections() {
        holdNew = true;
    }

    void release() {
        releaseGate.countDown();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Socket upstream = new Socket(target.getAddress(), target.getPort());
                sockets.add(client);
                sockets.add(upstream);
                boolean hold = holdNew;
                if (hold) {
                    heldUpstreams.add(upstream);
                }
                start(() -> pipe(client, upstream, false, false));
                start(() -> pipe(upstream, client, hold, true));
            } catch (IOException e) {
                return;
            }
        }
    }

    private static void start(Runnable r) {
        Thread t = new Thread(r, "holding-proxy-pipe");
        t.setDaemon(true);
        t.start();
    }

    /** Copies {@code from} to {@code to}; a held server-to-client pipe waits for the release before its first write. */
    private void pipe(Socket from, Socket to, boolean hold, boolean serverToClient) {
        byte[] buf = new byte[64 * 1024];
        boolean waited = !hold;
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buf)) >= 0) {
                if (!waited) {
                    held.countDown();
                    releaseGate.await();
                    waited = true;
                }
                out.write(buf, 0, n);
                out.flush();
            }
            if (!serverToClient && isHeldPair(to)) {
                clientClosedHeld.countDown();
            }
        } catch (IOException | InterruptedException e) {
            // The other direction closed the pair, or the proxy stopped: not a close by the client.
        } finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private final List<Socket> heldUpstreams = new CopyOnWriteArrayList<>();

    private boolean isHeldPair(Socket upstream) {
        return heldUpstreams.contains(upstream);
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing a test socket
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            closeQuietly(s);
        }
    }
}
