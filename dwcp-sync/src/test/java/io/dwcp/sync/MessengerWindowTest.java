package io.dwcp.sync;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.transport.Session;
import io.dwcp.core.transport.Transfer;
import io.dwcp.core.transport.TransferRequest;
import io.dwcp.core.transport.TransferResult;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The messenger's send window, against a session whose transfers complete only when the test says (a receiver that
 * has not acknowledged yet): a burst larger than the window never has more than the window in flight — a receiver
 * refuses transfers past its max-transfers-per-peer, and before the window a burst of pushes was mostly refused —
 * and every waiting message is sent, in order, as places free up. Single-threaded and deterministic.
 */
class MessengerWindowTest {
    private static final Messenger.Listener NONE = new Messenger.Listener() {
        @Override
        public void onMessage(Session session, byte[] message) {
        }

        @Override
        public void onReject(Messenger.Reject reason, String detail) {
        }
    };

    /** A session that records each transfer and leaves its completion to the test. */
    private static final class HeldSession implements Session {
        final List<CompletableFuture<TransferResult>> open = new ArrayList<>();
        final List<Integer> sentFirstBytes = new ArrayList<>();
        int maxOpen;

        int inFlight() {
            return (int) open.stream().filter(f -> !f.isDone()).count();
        }

        @Override
        public String id() {
            return "held";
        }

        @Override
        public InetSocketAddress remoteAddress() {
            return new InetSocketAddress("127.0.0.1", 1);
        }

        @Override
        public int activeStreams() {
            return 1;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public Transfer send(TransferRequest request) {
            CompletableFuture<TransferResult> f = new CompletableFuture<>();
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
            try {
                request.source().read(b);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            sentFirstBytes.add((int) b.get(0));
            open.add(f);
            maxOpen = Math.max(maxOpen, inFlight());
            return new Transfer() {
                @Override
                public long id() {
                    return open.size();
                }

                @Override
                public CompletableFuture<TransferResult> completion() {
                    return f;
                }

                @Override
                public long acknowledgedBytes() {
                    return 0;
                }

                @Override
                public boolean cancel() {
                    return f.completeExceptionally(new DwcpException(ErrorCode.CANCELLED, "cancelled"));
                }
            };
        }

        @Override
        public CompletableFuture<Void> closeFuture() {
            return new CompletableFuture<>();
        }

        @Override
        public void close() {
        }

        /** Acknowledges the oldest transfer still in flight. */
        void acknowledgeOldest() {
            for (CompletableFuture<TransferResult> f : open) {
                if (!f.isDone()) {
                    f.complete(new TransferResult(1, 0, Duration.ZERO, 0, 0));
                    return;
                }
            }
            throw new AssertionError("nothing in flight");
        }
    }

    @Test
    void aBurstLargerThanTheWindowWaitsForPlacesAndIsSentInOrder() {
        Messenger m = new Messenger(null, 1024, 1000, 4, NONE);
        HeldSession s = new HeldSession();
        List<CompletableFuture<Void>> sends = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            sends.add(m.send(s, new byte[]{(byte) i, 0, 0}));
        }
        assertEquals(4, s.open.size(), "only the window is handed to the transport");
        for (int i = 0; i < 16; i++) {
            s.acknowledgeOldest();
            assertEquals(4, s.inFlight(), "a freed place goes to the next waiting message");
        }
        for (int i = 0; i < 4; i++) {
            s.acknowledgeOldest();
        }
        assertEquals(4, s.maxOpen);
        assertEquals(20, s.open.size());
        for (int i = 0; i < 20; i++) {
            assertEquals(i, s.sentFirstBytes.get(i), "sent in the order given");
            assertTrue(sends.get(i).isDone() && !sends.get(i).isCompletedExceptionally(), "send " + i + " completed");
        }
    }

    @Test
    void aFailedTransferFailsOnlyItsSendAndFreesItsPlace() {
        Messenger m = new Messenger(null, 1024, 1000, 1, NONE);
        HeldSession s = new HeldSession();
        CompletableFuture<Void> first = m.send(s, new byte[]{1});
        CompletableFuture<Void> second = m.send(s, new byte[]{2});
        assertEquals(1, s.open.size());
        s.open.get(0).completeExceptionally(new DwcpException(ErrorCode.LIMIT_EXCEEDED, "refused"));
        assertThrows(CompletionException.class, first::join);
        assertEquals(2, s.open.size(), "the waiting message took the place");
        assertFalse(second.isDone());
        s.acknowledgeOldest();
        second.join();
    }

    @Test
    void theQueueIsBoundedAndAFullQueueFailsTheSendAtOnce() {
        // max-message 16 bytes: at most 64 bytes wait per session
        Messenger m = new Messenger(null, 16, 1000, 1, NONE);
        HeldSession s = new HeldSession();
        m.send(s, new byte[16]);
        for (int i = 0; i < 4; i++) {
            assertFalse(m.send(s, new byte[16]).isDone());
        }
        CompletableFuture<Void> refused = m.send(s, new byte[16]);
        CompletionException e = assertThrows(CompletionException.class, refused::join);
        assertEquals(ErrorCode.LIMIT_EXCEEDED, ((DwcpException) e.getCause()).code());
        assertEquals(1, s.open.size());
    }
}
