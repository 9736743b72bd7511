package io.dwcp.transport.netty;

import io.dwcp.core.transport.PayloadSource;
import io.dwcp.core.transport.Session;
import io.dwcp.core.transport.TransferKind;
import io.dwcp.core.transport.TransferRequest;
import io.dwcp.core.transport.TransferResult;
import io.dwcp.transport.wire.FrameHeader;
import io.netty.channel.Channel;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Races of a resume against a close and against another loss, each ordered by the test so that every run takes the
 * same path.
 *
 * <ul>
 *   <li>A session closed while its control connection is being resumed stays closed: the late resume neither revives
 *       it nor keeps the new connection. The proxy holds the server's HELLO_ACK of the resume until the session is
 *       closed.</li>
 *   <li>A resumed control connection that is lost again before its completion reaches the session (the connection
 *       attached, then closed; the loss handler sees the session still reconnecting and leaves the retry to the
 *       completion) is resumed once more, and the session carries transfers again. The test completes the resume to
 *       the session only after it closed the attached connection, the order a descheduled thread produces.</li>
 * </ul>
 */
class SessionStateRaceTest {

    @Test
    void aResumeThatCompletesAfterTheSessionClosedDoesNotReviveIt() throws Exception {
        try (Peers p = new Peers(b -> b.set("dwcp.tier.pin", "local"));
             HoldingProxy proxy = new HoldingProxy(p.listener.localAddress())) {
            Session s = p.client.connect(proxy.address(), p.clientRecorder).get(10, TimeUnit.SECONDS);
            AmstSession cs = p.client.sessions().iterator().next();
            proxy.holdNewConnections();
            // The control connection drops: the client reconnects with its resume token through the proxy.
            cs.controlChannel().close().sync();
            assertTrue(proxy.held.await(10, TimeUnit.SECONDS), "the server answered the resume");
            s.close();
            assertEquals(SessionLifecycle.State.CLOSED, cs.state());
            proxy.release();
            assertTrue(proxy.clientClosedHeld.await(10, TimeUnit.SECONDS),
                    "the client closes the resumed connection of a closed session");
            assertEquals(SessionLifecycle.State.CLOSED, cs.state());
            assertFalse(s.isOpen());
            assertTrue(cs.controlChannel() == null || !cs.controlChannel().isOpen(), "no live control connection is kept");
        }
    }

    @Test
    void aResumedControlConnectionLostBeforeTheResumeCompletesIsResumedAgain() throws Exception {
        ExecutorService late = Executors.newSingleThreadExecutor();
        try (Peers p = new Peers(b -> b.set("dwcp.tier.pin", "local"))) {
            Session s = p.connect();
            AmstSession cs = p.client.sessions().iterator().next();
            Resumption.Connector real = cs.resumption.connector;
            CountDownLatch attached = new CountDownLatch(1);
            CountDownLatch gate = new CountDownLatch(1);
            CountDownLatch resumedAgain = new CountDownLatch(1);
            AtomicInteger resumes = new AtomicInteger();
            cs.resumption.connector = (index, flags) -> {
                CompletableFuture<Channel> f = real.connect(index, flags);
                if ((flags & FrameHeader.FLAG_RESUME) == 0) {
                    return f;
                }
                if (resumes.incrementAndGet() == 1) {
                    // The connection attaches to the session now; the session hears of it only when the gate opens.
                    return f.thenApplyAsync(ch -> {
                        attached.countDown();
                        awaitQuietly(gate);
                        return ch;
                    }, late);
                }
                return f.whenComplete((ch, e) -> {
                    if (e == null) {
                        resumedAgain.countDown();
                    }
                });
            };

            Channel first = cs.controlChannel();
            first.eventLoop().submit(() -> first.close()).sync();
            assertTrue(attached.await(10, TimeUnit.SECONDS), "the client resumed its control connection");
            Channel resumed = cs.controlChannel();
            assertNotNull(resumed, "the resumed connection is attached before its completion runs");
            assertEquals(SessionLifecycle.State.RECONNECTING, cs.state());
            // Close it and let its event loop run the close handler (queued during the close, so before this barrier).
            resumed.eventLoop().submit(() -> resumed.close()).sync();
            resumed.eventLoop().submit(() -> { }).sync();
            assertNull(cs.controlChannel(), "the session saw the resumed connection close");
            assertEquals(SessionLifecycle.State.RECONNECTING, cs.state(), "the loss handler left the retry to the resume");

            gate.countDown();
            assertTrue(resumedAgain.await(10, TimeUnit.SECONDS), "the session resumed again after the second loss");
            byte[] data = new byte[300_000];
            new java.util.Random(7).nextBytes(data);
            TransferResult r = s.send(TransferRequest.of(TransferKind.MEMORY, "after", PayloadSource.of(ByteBuffer.wrap(data))))
                    .completion().get(10, TimeUnit.SECONDS);
            assertEquals(data.length, r.payloadBytes());
            assertArrayEquals(data, p.serverRecorder.future("after").get(10, TimeUnit.SECONDS));
            assertEquals(SessionLifecycle.State.OPEN, cs.state());
            assertTrue(cs.controlChannel() != null && cs.controlChannel().isActive(), "a live control connection");
        } finally {
            late.shutdownNow();
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
