package io.dwcp.consensus;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/*
 * Loopback ports held for the lifetime of a replica harness, so that concurrent harnesses (two test JVMs, a test and
 * a `dwcp consensus-check` campaign) can never hand the same port to two replicas.
 *
 * Why not `new ServerSocket(0)`: that port comes from the kernel's ephemeral range and is free again the moment the
 * probe socket closes. Between then and the replica's bind (a JVM start later) any outgoing connection on the machine
 * may take it as its local port, and another harness may be given it too — the "replica could not bind its port"
 * harness failure of the first campaign.
 *
 * Here a port is taken from below the ephemeral range (read from /proc/sys/net/ipv4/ip_local_port_range; outgoing
 * connections never use it), and reserved by an exclusive lock on DIR/<port>.lock (DIR = java.io.tmpdir/dwcp-ports),
 * held until close(). The lock is per process (a process that dies releases it); a set of held ports guards against
 * two reservations of one JVM (file locks do not exclude each other within a JVM). A port that something else has
 * bound (a probe bind fails) is skipped. Every harness that reserves through this class is excluded; a foreign program
 * that binds a fixed port in the range later is not (nothing can prevent that).
 *
 * Thread-safe.
 */
final class PortReservation implements AutoCloseable {
    /** Lowest port handed out. */
    static final int RANGE_LOW = 20_000;
    private static final int DEFAULT_RANGE_HIGH = 32_768;
    private static final Set<Integer> HELD_IN_THIS_JVM = ConcurrentHashMap.newKeySet();

    private final Path dir;
    private final int low;
    private final int high;
    private final List<Held> held = new ArrayList<>();
    private boolean closed;

    private record Held(int port, FileChannel channel, FileLock lock) {
    }

    /** A reservation in the default lock directory, below the kernel's ephemeral range. */
    PortReservation() throws IOException {
        this(Path.of(System.getProperty("java.io.tmpdir"), "dwcp-ports"), RANGE_LOW, ephemeralLow());
    }

    /** Locks in {@code dir}, ports in [{@code low}, {@code high}). */
    PortReservation(Path dir, int low, int high) throws IOException {
        if (low < 1024 || high <= low || high > 65_536) {
            throw new IllegalArgumentException("port range [" + low + ", " + high + ") must be non-empty within "
                    + "[1024, 65536); is the kernel's ephemeral range (ip_local_port_range) above " + low + "?");
        }
        this.dir = Files.createDirectories(dir);
        this.low = low;
        this.high = high;
    }

    /** The first port of the kernel's ephemeral range (Linux), or 32768 when it cannot be read. */
    static int ephemeralLow() {
        try {
            // Not Files.readString: procfs reports size 0, and readString then returns only the first byte ("3").
            try (java.io.BufferedReader r = Files.newBufferedReader(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))) {
                return Integer.parseInt(r.readLine().trim().split("\\s+")[0]);
            }
        } catch (IOException | RuntimeException e) {
            return DEFAULT_RANGE_HIGH;
        }
    }

    /**
     * Reserves one more port: free of other reservations and not bound by anyone at the time of the call.
     *
     * @return the port, held until {@link #close()}
     * @throws IOException when no port of the range could be reserved
     */
    synchronized int next() throws IOException {
        if (closed) {
            throw new IllegalStateException("reservation closed");
        }
        int span = high - low;
        int start = ThreadLocalRandom.current().nextInt(span);
        for (int k = 0; k < span; k++) {
            int port = low + (start + k) % span;
            if (!HELD_IN_THIS_JVM.add(port)) {
                continue;
            }
            Held h = tryHold(port);
            if (h != null) {
                held.add(h);
                return port;
            }
            HELD_IN_THIS_JVM.remove(port);
        }
        throw new IOException("no free loopback port in [" + low + ", " + high + ") (locks in " + dir + ")");
    }

    private Held tryHold(int port) throws IOException {
        FileChannel ch = FileChannel.open(dir.resolve(port + ".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null || !bindable(port)) {
            if (lock != null) {
                lock.release();
            }
            ch.close();
            return null;
        }
        return new Held(port, ch, lock);
    }

    private static boolean bindable(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Releases every port; idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Held h : held) {
            try {
                h.lock().release();
                h.channel().close();
            } catch (IOException e) {
                // the process keeps running; the lock goes with the channel at the latest when it exits
            }
            HELD_IN_THIS_JVM.remove(h.port());
        }
        held.clear();
    }
}
