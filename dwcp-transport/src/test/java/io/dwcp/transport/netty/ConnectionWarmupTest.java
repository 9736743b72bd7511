package io.dwcp.transport.netty;

import org.junit.jupiter.api.Test;

import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The connection code's warm-up: one real loopback exchange, and nothing of it left afterwards. */
class ConnectionWarmupTest {
    @Test
    void exchangesAFrameOverLoopbackThenClosesItsListenerAndThreads() throws Exception {
        InetSocketAddress used = ConnectionWarmup.run();

        assertNotNull(used, "the PING/PONG exchange over loopback completed");
        assertTrue(used.getAddress().isLoopbackAddress(), "listened on loopback only: " + used);
        // The listener is closed: nothing accepts on its port any more.
        assertThrows(ConnectException.class, () -> {
            try (Socket s = new Socket()) {
                s.connect(used, 2000);
            }
        });
        // Its event loop ended: no thread of it is left once they finish exiting.
        for (Thread t : warmupThreads()) {
            t.join(ConnectionWarmup.TIMEOUT.toMillis());
            assertFalse(t.isAlive(), "still running: " + t.getName());
        }
    }

    @Test
    void startsOneDaemonThreadPerFlagThatEndsByItself() throws InterruptedException {
        AtomicBoolean once = new AtomicBoolean();
        Thread first = ConnectionWarmup.start(once);
        Thread second = ConnectionWarmup.start(once);

        assertNotNull(first);
        assertNull(second, "a second start with the same flag starts nothing");
        assertTrue(first.isDaemon(), "a warm-up never keeps the JVM alive");
        first.join(2 * ConnectionWarmup.TIMEOUT.toMillis());
        assertFalse(first.isAlive(), "the warm-up ends by itself");
    }

    private static List<Thread> warmupThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("dwcp-transport-warmup-io")).collect(Collectors.toList());
    }
}
