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
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/*
 * A fault-injecting TCP proxy in front of every replica (the harness of `dwcp consensus-check` and of the process
 * tests). Replica j is advertised in dwcp.consensus.peers at its proxy port and listens on a private port behind it,
 * so every connection to j — from other replicas and from clients — passes through proxy j.
 *
 * To act on a link the proxy must know who connected. It finds out from the kernel: the accepted socket's remote port
 * identifies the connecting socket in /proc/net/tcp{,6}, whose inode is then looked up among the file descriptors of
 * the replica processes (/proc/<pid>/fd -> socket:[inode]). A connection from no replica process comes from a client
 * (the harness JVM); client links are never cut or delayed (clients stand for callers on every side).
 *
 * Faults act per direction: bytes from replica a to replica b travel on a's connections to b (up) and on b's
 * connections to a (down, the replies). A cut direction is a black hole, as in a real partition or a one-way loss:
 * bytes are neither forwarded nor refused; TCP buffers fill and senders time out. When it heals, the held bytes flow
 * again (TCP would have retransmitted them). A delayed direction forwards each chunk no earlier than its arrival plus
 * the delay. Linux only.
 *
 * Threading: one accept thread per replica; per connection and direction a reader (stamps chunks into a bounded queue)
 * and a writer (forwards them when due and open); rule changes notify the writers. Guarded by `rules`: cut, delayNanos.
 */
final class FaultProxy implements AutoCloseable {
    static final int CLIENT = -1;
    private static final int QUEUE_CHUNKS = 256;
    private static final byte[] EOF = new byte[0];

    private final int n;
    private final int[] publicPorts;
    private final int[] privatePorts;
    private final IntFunction<Long> pidOf;
    private final List<ServerSocket> listeners = new ArrayList<>();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final Object rules = new Object();
    /** Guarded by rules: cut[from][to], bytes from replica {@code from} to replica {@code to} are held. */
    private final boolean[][] cut;
    /** Guarded by rules: added one-way latency from replica {@code from} to replica {@code to}. */
    private final long[][] delayNanos;
    private volatile boolean closed;

    FaultProxy(int[] publicPorts, int[] privatePorts, IntFunction<Long> pidOf) throws IOException {
        this.n = publicPorts.length;
        this.publicPorts = publicPorts.clone();
        this.privatePorts = privatePorts.clone();
        this.pidOf = pidOf;
        this.cut = new boolean[n][n];
        this.delayNanos = new long[n][n];
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

    /** Splits the replicas into {@code side} and the rest; links across are cut both ways. Replaces earlier cuts. */
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

    /**
     * One-way loss: everything {@code from} sends to each of {@code to} is held, while the other direction still flows
     * (a leader that still hears its followers but cannot reach them, or the reverse). Adds to earlier cuts.
     */
    void cutOneWay(int from, Set<Integer> to) {
        synchronized (rules) {
            for (int b : to) {
                if (b != from) {
                    cut[from][b] = true;
                }
            }
            rules.notifyAll();
        }
    }

    /** Adds {@code delay} to every byte replica {@code replica} sends to or receives from another replica. */
    void delay(int replica, Duration delay) {
        synchronized (rules) {
            for (int b = 0; b < n; b++) {
                if (b != replica) {
                    delayNanos[replica][b] = delay.toNanos();
                    delayNanos[b][replica] = delay.toNanos();
                }
            }
            rules.notifyAll();
        }
    }

    /** Removes every cut and delay. */
    void heal() {
        synchronized (rules) {
            for (int a = 0; a < n; a++) {
                java.util.Arrays.fill(cut[a], false);
                java.util.Arrays.fill(delayNanos[a], 0);
            }
            rules.notifyAll();
        }
    }

    /**
     * Waits until bytes stamped at {@code stamp} may go from {@code from} to {@code to}: the direction is open and its
     * delay has passed. False when the proxy closed.
     */
    private boolean awaitDue(int from, int to, long stamp) throws InterruptedException {
        if (from == CLIENT || to == CLIENT) {
            return !closed;
        }
        synchronized (rules) {
            while (!closed) {
                if (!cut[from][to]) {
                    long wait = stamp + delayNanos[from][to] - System.nanoTime();
                    if (wait <= 0) {
                        return true;
                    }
                    TimeUnit.NANOSECONDS.timedWait(rules, wait);
                } else {
                    rules.wait();
                }
            }
            return false;
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
            pump(out, in, dst, src, "down");
        } catch (IOException e) {
            closeQuietly(in);
        }
    }

    /** A chunk read at {@code stamp} (System.nanoTime()). */
    private record Chunk(byte[] bytes, long stamp) {
    }

    /** Forwards what {@code from} receives to {@code to}: the bytes replica {@code a} sends to replica {@code b}. */
    private void pump(Socket from, Socket to, int a, int b, String dir) {
        BlockingQueue<Chunk> queue = new ArrayBlockingQueue<>(QUEUE_CHUNKS);
        Thread reader = new Thread(() -> {
            byte[] buf = new byte[64 * 1024];
            try (InputStream is = from.getInputStream()) {
                int r;
                while ((r = is.read(buf)) != -1) {
                    queue.put(new Chunk(java.util.Arrays.copyOf(buf, r), System.nanoTime()));
                }
            } catch (IOException | InterruptedException e) {
                // the connection ended (peer closed, replica killed, proxy closed)
            } finally {
                queue.offer(new Chunk(EOF, 0));
                closeQuietly(from);
            }
        }, "proxy-" + dir + "-read-n" + (b + 1));
        Thread writer = new Thread(() -> {
            try (OutputStream os = to.getOutputStream()) {
                while (true) {
                    Chunk c = queue.poll(1, TimeUnit.SECONDS);
                    if (closed) {
                        break;
                    }
                    if (c == null) {
                        continue;
                    }
                    if (c.bytes() == EOF || !awaitDue(a, b, c.stamp())) {
                        break;
                    }
                    os.write(c.bytes());
                    os.flush();
                }
            } catch (IOException | InterruptedException e) {
                // the connection ended: close both halves below
            } finally {
                closeQuietly(from);
                closeQuietly(to);
                sockets.remove(from);
                sockets.remove(to);
            }
        }, "proxy-" + dir + "-write-n" + (b + 1));
        reader.setDaemon(true);
        writer.setDaemon(true);
        reader.start();
        writer.start();
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
}
