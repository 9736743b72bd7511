package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.spi.BaselineRef;
import io.dwcp.core.transport.InboundTransfer;
import io.dwcp.core.transport.PayloadSource;
import io.dwcp.core.transport.Session;
import io.dwcp.core.transport.Transfer;
import io.dwcp.core.transport.TransferHandler;
import io.dwcp.core.transport.TransferKind;
import io.dwcp.core.transport.TransferRequest;
import io.dwcp.core.transport.TransferSink;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A migration sender's requests to its receiver and their replies: the baseline query ({@link #queryBaseline}) and the
 * seed messages of replica-seeded rounds ({@link #askSeed}), each sent as a METADATA transfer under a request id of
 * its own, and the routing of the reply transfers the receiver sends back ({@link #replyHandler}) to the request
 * waiting for each. One per {@link MigrationSender}, which calls it from its rounds and fails what is pending when it
 * closes ({@link #closeAll}); {@link SeededRounds} sends the seed messages.
 *
 * <p>Thread-safe without a lock: the pending maps are concurrent (a request is added before it is sent and removed
 * when its future completes), the ids come from an atomic counter; each reply transfer's {@link ReplySink} is
 * confined to the transport thread that delivers it.
 */
final class SenderRequests {
    /** The sender's logger: these lines belong to the sender's log. */
    private static final Logger LOG = LoggerFactory.getLogger(MigrationSender.class);

    private final Duration replyTimeout;
    private final MeterRegistry registry;
    /** Baseline queries waiting for the receiver's reply, by request id. */
    private final Map<Long, CompletableFuture<MigrationWire.Control>> pendingQueries = new ConcurrentHashMap<>();
    /** Seed requests waiting for the receiver's reply, by request id. */
    private final Map<Long, CompletableFuture<ByteBuffer>> pendingSeed = new ConcurrentHashMap<>();
    /** Request ids of both kinds of request. */
    private final AtomicLong requestIds = new AtomicLong();

    SenderRequests(Duration replyTimeout, MeterRegistry registry) {
        this.replyTimeout = replyTimeout;
        this.registry = registry;
    }

    /** The handler for transfers the receiver sends back on the session (baseline and seed replies). */
    TransferHandler replyHandler() {
        return (s, transfer) -> new ReplySink(transfer);
    }

    /** Asks the receiver on {@code session} which baseline it holds of {@code key}; times out after the reply timeout. */
    CompletableFuture<BaselineRef> queryBaseline(Session session, String key) {
        registry.counter("dwcp.migration.baseline.queries").increment();
        long id = requestIds.incrementAndGet();
        CompletableFuture<MigrationWire.Control> reply = new CompletableFuture<>();
        pendingQueries.put(id, reply);
        Transfer t = session.send(TransferRequest.of(TransferKind.METADATA, key,
                PayloadSource.of(MigrationWire.control(MigrationWire.TYPE_BASELINE_QUERY, id, null))));
        t.completion().whenComplete((r, e) -> {
            if (e != null) {
                reply.completeExceptionally(e);
            }
        });
        return reply.orTimeout(replyTimeout.toMillis(), TimeUnit.MILLISECONDS)
                .whenComplete((r, e) -> pendingQueries.remove(id))
                .thenApply(c -> c.baseline(key));
    }

    /**
     * Sends one seed message on {@code s}; the future completes with the reply's payload (the planner waits for it
     * with its own timeout, and cancels it when it gives up, which forgets the request).
     */
    CompletableFuture<ByteBuffer> askSeed(Session s, String key, ByteBuffer request, RoundControl control) {
        if (control.cancelled()) {
            return CompletableFuture.failedFuture(new DwcpException(ErrorCode.CANCELLED, "round cancelled by the caller"));
        }
        long id = requestIds.incrementAndGet();
        request.putLong(8, id);
        CompletableFuture<ByteBuffer> reply = new CompletableFuture<>();
        pendingSeed.put(id, reply);
        reply.whenComplete((r, e) -> pendingSeed.remove(id));
        try {
            Transfer t = s.send(TransferRequest.of(TransferKind.METADATA, key, PayloadSource.of(request)));
            t.completion().whenComplete((r, e) -> {
                if (e != null) {
                    DwcpException d = DwcpException.find(e);
                    reply.completeExceptionally(d != null ? d
                            : new DwcpException(ErrorCode.IO_ERROR, "seed request failed: " + e, e));
                }
            });
        } catch (RuntimeException e) {
            reply.completeExceptionally(e);
        }
        return reply;
    }

    /** Fails every request still waiting for its reply: the sender closed. */
    void closeAll() {
        for (CompletableFuture<MigrationWire.Control> f : pendingQueries.values()) {
            f.completeExceptionally(new DwcpException(ErrorCode.CANCELLED, "migration sender closed"));
        }
        for (CompletableFuture<ByteBuffer> f : pendingSeed.values()) {
            f.completeExceptionally(new DwcpException(ErrorCode.CANCELLED, "migration sender closed"));
        }
    }

    /** Collects one reply transfer (a baseline reply or a seed reply) and completes the matching request. */
    private final class ReplySink implements TransferSink {
        private final InboundTransfer transfer;
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream(MigrationWire.CONTROL_LENGTH);
        /** The first 4 bytes: which kind of reply this is. */
        private final ByteBuffer magic = ByteBuffer.allocate(4);

        ReplySink(InboundTransfer transfer) {
            this.transfer = transfer;
            if (transfer.kind() != TransferKind.METADATA) {
                throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "migration sender accepts only control replies, got " + transfer.kind());
            }
        }

        @Override
        public void write(ByteBuffer data) {
            if (magic.hasRemaining()) {
                ByteBuffer d = data.duplicate();
                while (magic.hasRemaining() && d.hasRemaining()) {
                    magic.put(d.get());
                }
            }
            boolean seed = !magic.hasRemaining() && magic.getInt(0) == SeedWire.MAGIC;
            long max = seed ? SeedWire.MAX_MESSAGE_BYTES : MigrationWire.CONTROL_LENGTH;
            if (bytes.size() + data.remaining() > max) {
                DwcpException e = new DwcpException(ErrorCode.LIMIT_EXCEEDED, (seed ? "seed" : "control") + " reply for "
                        + transfer.key() + " longer than " + max + " bytes");
                if (seed) {
                    // Oversized description: the round waiting for it fails now (and goes in full) instead of timing out.
                    for (CompletableFuture<ByteBuffer> f : pendingSeed.values()) {
                        f.completeExceptionally(e);
                    }
                }
                throw e;
            }
            byte[] b = new byte[data.remaining()];
            data.get(b);
            bytes.writeBytes(b);
        }

        @Override
        public void complete() {
            ByteBuffer all = ByteBuffer.wrap(bytes.toByteArray());
            if (all.remaining() >= 4 && all.getInt(0) == SeedWire.MAGIC) {
                SeedWire.Header h = SeedWire.header(all.duplicate());
                CompletableFuture<ByteBuffer> f = pendingSeed.get(h.requestId());
                if (f != null) {
                    f.complete(all);
                } else {
                    LOG.debug("seed reply {} for {} matched no pending request (timed out?)", h.requestId(), transfer.key());
                }
                return;
            }
            MigrationWire.Control c = MigrationWire.parseControl(all);
            if (c.type() != MigrationWire.TYPE_BASELINE_STATE) {
                throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "expected a baseline reply, got type " + c.type());
            }
            CompletableFuture<MigrationWire.Control> f = pendingQueries.get(c.requestId());
            if (f != null) {
                f.complete(c);
            } else {
                LOG.debug("reply {} for {} matched no pending query (timed out?)", c.requestId(), transfer.key());
            }
        }

        @Override
        public void fail(Throwable cause) {
            LOG.debug("control reply for {} failed", transfer.key(), cause);
        }
    }
}
