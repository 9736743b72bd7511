package io.dwcp.bench;

import io.dwcp.core.DwcpManager;
import io.dwcp.core.migration.MigrationSender;
import io.dwcp.transport.netty.AmstTransport;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The DWCP side of a migration brought up on a thread of its own: the manager built and started, then its migration
 * session to the receiver opened, while the caller does other work meanwhile (qemu-migrate sets QEMU up over QMP).
 * {@link #close()} closes whatever came up, the sender before the manager, also when the caller failed before it asked
 * for either; it waits for the start-up to settle first, so nothing it opens is left behind.
 */
final class DwcpStart implements AutoCloseable {
    /** How long {@link #close()} waits for a start-up still under way (it ends by itself within the connect timeout). */
    private static final Duration SETTLE = Duration.ofSeconds(60);

    private final CompletableFuture<DwcpManager> manager = new CompletableFuture<>();
    private final CompletableFuture<MigrationSender> sender;
    private boolean closed;

    /**
     * Starts the manager {@code build} gives and then opens a migration to {@code receiver}.
     *
     * @param build makes the (not yet started) manager
     * @param receiver the receiver's address
     */
    DwcpStart(Supplier<DwcpManager> build, InetSocketAddress receiver) {
        // Before the configuration and the manager are built: the connection code warms up beside them.
        AmstTransport.warmUpInBackground();
        Thread t = new Thread(() -> {
            DwcpManager m = null;
            try {
                m = build.get();
                m.start();
                manager.complete(m);
            } catch (Throwable e) {
                if (m != null) {
                    closeQuietly(m);
                }
                manager.completeExceptionally(e);
            }
        }, "dwcp-start");
        t.setDaemon(true);
        t.start();
        sender = manager.thenCompose(m -> m.openMigration(receiver));
    }

    /** {@return the started manager} Waits up to {@code timeout}; throws what the start-up threw. */
    DwcpManager manager(Duration timeout) throws Exception {
        return get(manager, timeout);
    }

    /** {@return the sender, connected to the receiver} Waits up to {@code timeout}; throws what the start-up threw. */
    MigrationSender sender(Duration timeout) throws Exception {
        return get(sender, timeout);
    }

    /** Closes the sender, then the manager, once the start-up settled (whichever came up). Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            sender.get(SETTLE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            // failed or still connecting: what came up is closed below or once it does
        }
        sender.whenComplete((s, e) -> {
            if (s != null) {
                closeQuietly(s);
            }
        });
        // Runs once the sender's future completed too (it completes only after the manager's), so the sender is
        // closed first; a manager whose session never came up is closed when its start-up ends.
        sender.whenComplete((s, e) -> manager.whenComplete((m, f) -> {
            if (m != null) {
                m.close();
            }
        }));
    }

    private static <T> T get(CompletableFuture<T> f, Duration timeout) throws Exception {
        try {
            return f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof java.util.concurrent.CompletionException && c.getCause() != null) {
                c = c.getCause();
            }
            if (c instanceof Exception ex) {
                throw ex;
            }
            throw e;
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            System.err.println("dwcp: closing " + c.getClass().getSimpleName() + ": " + e);
        }
    }
}
