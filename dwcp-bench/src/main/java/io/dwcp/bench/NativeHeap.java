package io.dwcp.bench;

import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.JMException;
import javax.management.MBeanOperationInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Gives the memory that a long-lived receiver's rounds freed in the C heap back to the system after each round.
 *
 * <p>Why: direct buffers (socket reads, batch payloads, page chunks) live in memory from the C allocator. With glibc,
 * once a freed buffer of a few MiB raised the allocator's dynamic mmap threshold, later buffers of that size come from
 * its arenas instead of mappings of their own, and what is freed there stays resident: the process's resident memory
 * then grew from one migration to the next although the JVM held less. The JVM's diagnostic command
 * {@code System.trim_native_heap} ({@code malloc_trim}) returns those free pages; this class calls it through the
 * platform MBean server, so no JVM flag is needed, on a thread of its own so that a round's completion does not wait.
 * Requests made while a trim runs are coalesced into one more trim. {@value #IDLE_TRIM_MILLIS} ms after the last
 * request, with no request since, it trims once more: the transport's and the codec's pools free the buffers nobody
 * used for a few seconds, and an idle receiver should not keep them either. Where the command does not exist (another
 * JVM, an older JDK) or the C library cannot trim, nothing is done.
 *
 * <p>Ownership: the trimming thread is started lazily by the first {@link #requestTrim()} and ends with
 * {@link #close()} (idempotent); after it, requests are ignored. Thread-safe.
 */
final class NativeHeap implements AutoCloseable {
    private static final String MBEAN = "com.sun.management:type=DiagnosticCommand";
    private static final String OPERATION = "systemTrimNativeHeap";
    /** Quiet time after the last request before the idle trim: past the pools' idle release (5 s, checked every 5 s). */
    static final long IDLE_TRIM_MILLIS = 15_000;

    private final Runnable trim;
    private final long idleTrimNanos;
    private final AtomicLong trims = new AtomicLong();
    /** Guarded by {@code this}: a trim requested and not yet started, the thread, and whether closed. */
    private boolean pending;
    private Thread thread;
    private boolean closed;

    /** Trims through {@code trim} (the real one: {@link #forThisJvm()}), and once more {@code idleTrimMillis} after. */
    NativeHeap(Runnable trim, long idleTrimMillis) {
        if (idleTrimMillis <= 0) {
            throw new IllegalArgumentException("idleTrimMillis must be positive, got " + idleTrimMillis);
        }
        this.trim = trim;
        this.idleTrimNanos = TimeUnit.MILLISECONDS.toNanos(idleTrimMillis);
    }

    /**
     * A trimmer of this JVM's C heap. The command is looked up on the trimming thread at the first trim (the MBean
     * server's start-up stays out of the receiver's); without it, trims do nothing.
     *
     * @return the trimmer, owned by the caller
     */
    static NativeHeap forThisJvm() {
        return new NativeHeap(new Command()::run, IDLE_TRIM_MILLIS);
    }

    /** Whether this JVM has the {@code System.trim_native_heap} command. */
    static boolean commandExists() {
        return new Command().resolve();
    }

    /** The diagnostic command, resolved once; confined to the trimming thread. */
    private static final class Command {
        private MBeanServer server;
        private ObjectName name;
        private Boolean exists;

        boolean resolve() {
            if (exists == null) {
                exists = false;
                try {
                    server = ManagementFactory.getPlatformMBeanServer();
                    name = new ObjectName(MBEAN);
                    for (MBeanOperationInfo o : server.getMBeanInfo(name).getOperations()) {
                        exists |= OPERATION.equals(o.getName());
                    }
                } catch (JMException | RuntimeException e) {
                    // No platform MBean server or no diagnostic commands: nothing to trim with.
                }
            }
            return exists;
        }

        void run() {
            if (!resolve()) {
                return;
            }
            try {
                server.invoke(name, OPERATION, new Object[] {null}, new String[] {String[].class.getName()});
            } catch (JMException e) {
                // The command failed (the C library cannot trim): memory stays where the allocator keeps it.
            }
        }
    }

    /** Asks for a trim soon, on the trimming thread; returns at once. Ignored after {@link #close()}. */
    synchronized void requestTrim() {
        if (closed) {
            return;
        }
        pending = true;
        if (thread == null) {
            thread = new Thread(this::loop, "dwcp-native-heap-trim");
            thread.setDaemon(true);
            thread.start();
        }
        notifyAll();
    }

    /** Trims run so far. */
    long trims() {
        return trims.get();
    }

    private void loop() {
        long idleDue = 0; // nanoTime of the idle trim after the last requested one; 0: none due
        while (true) {
            synchronized (this) {
                try {
                    while (!pending && !closed) {
                        if (idleDue == 0) {
                            wait();
                        } else {
                            long left = idleDue - System.nanoTime();
                            if (left <= 0) {
                                break;
                            }
                            TimeUnit.NANOSECONDS.timedWait(this, left);
                        }
                    }
                } catch (InterruptedException e) {
                    return;
                }
                if (closed) {
                    return;
                }
                idleDue = pending ? System.nanoTime() + idleTrimNanos : 0;
                pending = false;
            }
            trimNow();
        }
    }

    /** Trims on the calling thread. */
    void trimNow() {
        try {
            trim.run();
        } catch (RuntimeException e) {
            // A failed trim only leaves memory where the allocator keeps it; the next request tries again.
        }
        trims.incrementAndGet();
    }

    /** Ends the trimming thread (a trim under way finishes first) and ignores later requests. Idempotent. */
    @Override
    public void close() {
        Thread t;
        synchronized (this) {
            closed = true;
            t = thread;
            notifyAll();
        }
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
