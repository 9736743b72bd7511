package io.dwcp.consensus;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.IntFunction;

/*
 * A fault-injecting TCP proxy in front of every replica. Replica j is advertised in dwcp.consensus.peers at its proxy
 * port and listens on a private port behind it, so every connection to j — from other replicas and from clients —
 * passes through proxy j.
 *
 * To cut a link in both directions the proxy must know who connected. It finds out from the kernel: the accepted
 * socket's remote port identifies the connecting socket in /proc/net/tcp{,6}, whose inode is then looked up among the
 * file descriptors of the replica processes (/proc/<pid>/fd -> socket:[inode]). A connection from no replica process
 * comes from a client (the test JVM); client links are never cut (clients stand for callers on every side).
 *
 * A cut link is a black hole, as in a real partition: bytes are neither forwarded nor refused; TCP buffers fill and
 * senders time out. When the link heals, the held bytes flow again (TCP would have retransmitted them). Linux only.
 *
 * Threading: one accept thread per replica, two pump threads per connection; rule changes notify the pumps.
 */
final class FaultProxy implements AutoCloseable {
    static final int CLIENT = -1;

    private final int n;
    private final int[] publicPorts;
    private final int[] privatePorts;
    private final IntFunction<Long> pidOf;
    private final List<ServerSocket> listeners = new ArrayList<>();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final Object rules = new Object();
    /** Guarded by rules: cut[src][dst]. */
    private final boolean[][] cut;
    private volatile boolean closed;

    FaultProxy(int[] publicPorts, int[] privatePorts, IntFunction<Long> pidOf) throws IOException {
        this.n = publicPorts.length;
        this.publicPorts = publicPorts.clone();
        this.privatePorts = privatePorts.clone();
        this.pidOf = pidOf;
        this.cut = new boolean[n][n];
        for (int j = 0; j < n; j++) {
            ServerSocket ss = new ServerSocket();
            ss.setReuseAddress(true);
            ss.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), publicPorts[j]));
            listeners.add(ss);
            int dst = j;
            Thread t = new Thread(() -> accept(ss, dst), "proxy-accept-n" + (j + 1));
            t.setDaemon(true);
            t.start();
        }
    }

    /** Splits the replicas into {@code side} and the rest; links across are cut both ways. */
    void partition(Set<Integer> side) {
        synchronized (rules) {
            for (int a = 0; a < n; a++) {
                for (int b = 0; b < n; b++) {
                    cut[a][b] = side.contains(a) != side.contains(b);
                }
            }
            rules.notifyAll();
        }
    }

    void heal() {
        partition(Set.of());
    }

    private boolean isCut(int src, int dst) {
        synchronized (rules) {
            return src != CLIENT && cut[src][dst];
        }
    }

    /** Waits while the link is cut; false when the proxy closed. */
    private boolean awaitOpen(int src, int dst) throws InterruptedException {
        synchronized (rules) {
            while (!closed && src != CLIENT && cut[src][dst]) {
                rules.wait();
            }
            return !closed;
        }
    }

    private void accept(ServerSocket ss, int dst) {
        while (!closed) {
            Socket in;
            try {
                in = ss.accept();
            } catch (IOException e) {
                return; // closed
            }
            sockets.add(in);
            Thread t = new Thread(() -> connect(in, dst), "proxy-conn-n" + (dst + 1));
            t.setDaemon(true);
            t.start();
        }
    }

    private void connect(Socket in, int dst) {
        try {
            int src = sourceOf(in.getPort(), publicPorts[dst]);
            Socket out = new Socket(InetAddress.getLoopbackAddress(), privatePorts[dst]);
            sockets.add(out);
            in.setTcpNoDelay(true);
            out.setTcpNoDelay(true);
            pump(in, out, src, dst, "up");
            pump(out, in, src, dst, "down");
        } catch (IOException e) {
            closeQuietly(in);
        }
    }

    private void pump(Socket from, Socket to, int src, int dst, String dir) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[64 * 1024];
            try (InputStream is = from.getInputStream(); OutputStream os = to.getOutputStream()) {
                int r;
                while ((r = is.read(buf)) != -1) {
                    if (!awaitOpen(src, dst)) {
                        break;
                    }
                    os.write(buf, 0, r);
                    os.flush();
                }
            } catch (IOException | InterruptedException e) {
                // the connection ended (peer closed, replica killed, proxy closed): close both halves below
            } finally {
                closeQuietly(from);
                closeQuietly(to);
            }
        }, "proxy-" + dir + "-n" + (dst + 1));
        t.setDaemon(true);
        t.start();
    }

    /** The replica index owning the socket bound to local port {@code port} connected to {@code proxyPort}, or CLIENT. */
    private int sourceOf(int port, int proxyPort) throws IOException {
        String inode = inodeOf(port, proxyPort);
        if (inode == null) {
            return CLIENT;
        }
        String target = "socket:[" + inode + "]";
        for (int i = 0; i < n; i++) {
            Long pid = pidOf.apply(i);
            if (pid == null) {
                continue;
            }
            Path fds = Path.of("/proc", String.valueOf(pid), "fd");
            try (var list = Files.list(fds)) {
                for (Path fd : (Iterable<Path>) list::iterator) {
                    try {
                        if (Files.readSymbolicLink(fd).toString().equals(target)) {
                            return i;
                        }
                    } catch (IOException e) {
                        // the descriptor closed while we looked: not the one we want
                    }
                }
            } catch (IOException e) {
                // the process exited: it is not the source
            }
        }
        return CLIENT;
    }

    private static String inodeOf(int localPort, int remotePort) throws IOException {
        String lp = String.format(Locale.ROOT, ":%04X", localPort);
        String rp = String.format(Locale.ROOT, ":%04X", remotePort);
        for (String table : new String[]{"/proc/net/tcp", "/proc/net/tcp6"}) {
            Path p = Path.of(table);
            if (!Files.exists(p)) {
                continue;
            }
            for (String line : Files.readAllLines(p)) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 9 && f[1].endsWith(lp) && f[2].endsWith(rp)) {
                    return f[9];
                }
            }
        }
        return null;
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // closing a socket we are discarding; nothing else to do
        }
    }

    @Override
    public void close() {
        closed = true;
        synchronized (rules) {
            rules.notifyAll();
        }
        for (ServerSocket ss : listeners) {
            try {
                ss.close();
            } catch (IOException e) {
                // shutting down the fixture
            }
        }
        for (Socket s : sockets) {
            closeQuietly(s);
        }
    }

    static Set<Integer> setOf(int... members) {
        Set<Integer> s = new HashSet<>();
        for (int m : members) {
            s.add(m);
        }
        return s;
    }
}
