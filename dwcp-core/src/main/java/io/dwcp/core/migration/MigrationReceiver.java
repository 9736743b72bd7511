package io.dwcp.core.migration;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.memory.DirectBuffers;
import io.dwcp.core.spi.BlockCompressor;
import io.dwcp.core.spi.DecodeResult;
import io.dwcp.core.transport.InboundTransfer;
import io.dwcp.core.transport.PayloadSource;
import io.dwcp.core.transport.Session;
import io.dwcp.core.spi.StateCodec;
import io.dwcp.core.spi.StateDecoder;
import io.dwcp.core.transport.TransferHandler;
import io.dwcp.core.transport.TransferKind;
import io.dwcp.core.transport.TransferRequest;
import io.dwcp.core.transport.TransferSink;
import io.dwcp.core.state.VmState;
import io.dwcp.core.state.WritableRegion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The receiving side of migrations: a {@link TransferHandler} to pass to {@code Transport.listen}. It
 * answers baseline queries from the codec's baselines, and decodes each round transfer into a replica opened by the
 * {@link ReplicaFactory}; the round's transfer completes (which is the sender's acknowledgement) only after the
 * decoder verified every checksum and the state digest and committed. A failed round leaves the replica and the
 * baseline as they were. A keyframe round goes into a staging replica when the factory offers one
 * ({@link ReplicaFactory#openStaged}): the codec writes it while frames arrive and publishes it after verification.
 *
 * <p>Thread-safe: each transfer gets its own sink, called from one transport delivery thread.
 */
public final class MigrationReceiver implements TransferHandler {
    private static final Logger LOG = LoggerFactory.getLogger(MigrationReceiver.class);

    private final StateCodec codec;
    private final ReplicaFactory replicas;
    private final Consumer<ReceivedRound> listener;
    private final Consumer<FailedRound> failures;
    private final ReceiveBuffers buffers;
    /** Reads literal data of seeded rounds in its format besides DEFLATE; null: DEFLATE only. */
    private final BlockCompressor compressor;

    /**
     * A round that was verified and committed.
     *
     * @param round round number announced by the sender
     * @param result the decoder's result
     */
    public record ReceivedRound(int round, DecodeResult result) {
    }

    /**
     * A round that failed at this receiver; its replica and baseline were left as they were, or, when the failure
     * came while the replica was written in place, marked inconsistent by the replica factory.
     *
     * @param key state key
     * @param round round number announced by the sender, or -1 when the round failed before its header was read
     * @param cause why, with its code (the same code reaches the sender)
     * @param peer the sender's address, as the session reports it; null when the session does not know it
     */
    public record FailedRound(String key, int round, DwcpException cause, java.net.InetSocketAddress peer) {
    }

    MigrationReceiver(StateCodec codec, ReplicaFactory replicas, Consumer<ReceivedRound> listener,
                      Consumer<FailedRound> failures, ReceiveBuffers buffers) {
        this(codec, replicas, listener, failures, buffers, null);
    }

    MigrationReceiver(StateCodec codec, ReplicaFactory replicas, Consumer<ReceivedRound> listener,
                      Consumer<FailedRound> failures, ReceiveBuffers buffers, BlockCompressor compressor) {
        this.compressor = compressor;
        this.buffers = Objects.requireNonNull(buffers, "buffers");
        this.codec = Objects.requireNonNull(codec, "codec");
        this.replicas = Objects.requireNonNull(replicas, "replicas");
        this.listener = Objects.requireNonNull(listener, "listener");
        this.failures = Objects.requireNonNull(failures, "failures");
    }

    @Override
    public TransferSink onTransfer(Session session, InboundTransfer transfer) {
        switch (transfer.kind()) {
            case MEMORY:
            case DISK:
                return new RoundSink(session, transfer);
            case METADATA:
                return new ControlSink(session, transfer);
            default:
                throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "migration receiver does not take " + transfer.kind() + " transfers");
        }
    }

    /** Answers one baseline query or seed message. */
    private final class ControlSink implements TransferSink {
        /** The largest request: a seed PAGES request for the most chunks. */
        private static final int MAX_REQUEST = SeedWire.MAX_REQUEST_BYTES;
        private final Session session;
        private final InboundTransfer transfer;
        private final ByteBuffer bytes = ByteBuffer.allocate(MAX_REQUEST);

        ControlSink(Session session, InboundTransfer transfer) {
            this.session = session;
            this.transfer = transfer;
        }

        @Override
        public void write(ByteBuffer data) {
            if (data.remaining() > bytes.remaining()) {
                throw new DwcpException(ErrorCode.LIMIT_EXCEEDED, "control message longer than " + MAX_REQUEST + " bytes");
            }
            bytes.put(data);
        }

        @Override
        public void complete() throws IOException {
            bytes.flip();
            if (bytes.remaining() >= 4 && bytes.getInt(0) == SeedWire.MAGIC) {
                ByteBuffer reply = SeedService.answer(replicas, transfer.key(), bytes,
                        compressor == null ? SeedWire.FORMAT_DEFLATE : compressor.formatId());
                session.send(TransferRequest.of(TransferKind.METADATA, transfer.key(), PayloadSource.of(reply)));
                return;
            }
            MigrationWire.Control c = MigrationWire.parseControl(bytes);
            if (c.type() != MigrationWire.TYPE_BASELINE_QUERY) {
                throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "expected a baseline query, got type " + c.type());
            }
            ByteBuffer reply = MigrationWire.control(MigrationWire.TYPE_BASELINE_STATE, c.requestId(),
                    codec.baseline(transfer.key()).orElse(null));
            session.send(TransferRequest.of(TransferKind.METADATA, transfer.key(), PayloadSource.of(reply)));
        }

        @Override
        public void fail(Throwable cause) {
            LOG.debug("baseline query for {} failed", transfer.key(), cause);
        }
    }

    /** Header, then length-prefixed codec frames, then the end marker. */
    private final class RoundSink implements TransferSink {
        private static final int INITIAL_BUFFER = 64 * 1024;
        private final InboundTransfer transfer;
        private final java.net.InetSocketAddress peer;
        /** This round's side of {@link #buffers}: its peer's share and the node's budget. */
        private final ReceiveBuffers budget;
        /** Bytes of a header or length prefix not yet complete (heap); its capacity is reserved in {@link #budget}. */
        private ByteBuffer pending;
        /**
         * The part of a codec frame that arrived split across transport chunks, off-heap (direct, freed in
         * {@link #release()}); null until a frame arrives split. Its capacity is reserved in {@link #budget}, sized to the
         * largest split frame of the round, and it is lent to the decoder (which copies what it keeps), never copied to
         * the heap here.
         */
        private ByteBuffer frame;
        private MigrationWire.RoundHeader header;
        private VmState<WritableRegion> replica;
        /** A keyframe's staging replica (instead of {@link #replica}) when the factory can stage. */
        private ReplicaFactory.StagedReplica staged;
        private StateDecoder decoder;
        private int frameLength = -1;
        private boolean ended;
        /** The application was told of this round's failure. */
        private boolean notified;

        RoundSink(Session session, InboundTransfer transfer) {
            this.transfer = transfer;
            this.peer = session == null ? null : session.remoteAddress();
            this.budget = buffers.forPeer(peer == null ? null
                    : peer.getAddress() != null ? peer.getAddress().getHostAddress() : peer.getHostString());
            budget.reserve(INITIAL_BUFFER, "round transfer " + transfer.id() + " of " + transfer.key());
            this.pending = ByteBuffer.allocate(INITIAL_BUFFER);
        }

        @Override
        public void write(ByteBuffer data) throws IOException {
            try {
                writeFrames(data);
            } catch (IOException | RuntimeException | Error e) {
                failed(e);
                throw e;
            }
        }

        private void writeFrames(ByteBuffer data) throws IOException {
            while (data.hasRemaining()) {
                if (ended) {
                    throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "bytes after the end marker of round transfer " + transfer.id());
                }
                if (header == null) {
                    // At most a buffer's worth at a time: what follows the header is not copied to the heap here.
                    append(data, Math.min(data.remaining(), INITIAL_BUFFER));
                    pending.flip();
                    header = MigrationWire.parseRoundHeader(pending);
                    if (header == null) {
                        pending.compact();
                        continue;
                    }
                    pending.compact();
                    if (header.seeded()) {
                        FileReplicas files = SeedSources.files(replicas);
                        if (files == null) {
                            throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "a seeded round of " + transfer.key()
                                    + " was sent, but this receiver's replicas are not FileReplicas and hold no seed");
                        }
                        SeedDecoder seeded = new SeedDecoder(transfer.key(), header.pageSize(), header.regions(), files,
                                codec, budget, compressor);
                        decoder = SeedSources.inPlace(replicas, transfer.key())
                                ? seeded.writeInto((InPlaceReplica) replicas) : seeded;
                    } else if (header.keyframe()) {
                        staged = replicas.openStaged(transfer.key(), header.pageSize(), header.regions());
                    }
                    if (staged != null) {
                        decoder = codec.newKeyframeDecoder(staged.state(), staged::publish);
                    } else if (decoder == null) { // a seeded decoder opens the replica itself, after verification
                        replica = replicas.open(transfer.key(), header.pageSize(), header.regions());
                        decoder = header.keyframe() ? codec.newDecoder(replica)
                                : DeltaScratch.decoder(codec, replicas, replica);
                    }
                    // Anything already buffered past the header is handled by the loop below.
                    ByteBuffer rest = ByteBuffer.allocate(pending.position());
                    rest.put(pending.flip()).flip();
                    pending.clear();
                    consume(rest);
                    if (rest.hasRemaining()) {
                        // consume() stops only at the end marker: what follows it in the same read is not the round's.
                        throw new DwcpException(ErrorCode.PROTOCOL_ERROR, rest.remaining()
                                + " bytes after the end marker of round transfer " + transfer.id());
                    }
                    continue;
                }
                consume(data);
            }
        }

        /** Splits length-prefixed frames out of {@code data}, buffering a partial one. */
        private void consume(ByteBuffer data) {
            while (data.hasRemaining() && !ended) {
                if (frameLength < 0) {
                    int need = 4 - pending.position();
                    append(data, Math.min(need, data.remaining()));
                    if (pending.position() < 4) {
                        return;
                    }
                    frameLength = pending.flip().getInt();
                    pending.clear();
                    if (frameLength == 0) {
                        ended = true;
                        frameLength = -1;
                        return;
                    }
                    long max = Math.min(MigrationWire.MAX_FRAME_BYTES, budget.maxBytes());
                    if (frameLength < 0 || frameLength > max) {
                        throw new DwcpException(ErrorCode.LIMIT_EXCEEDED, "codec frame of " + (frameLength & 0xffffffffL)
                                + " bytes announced (at most " + max + ")");
                    }
                }
                if ((frame == null || frame.position() == 0) && data.remaining() >= frameLength) {
                    // Whole frame in the transport's buffer: lend it as it is, without copying.
                    ByteBuffer whole = data.slice();
                    whole.limit(frameLength);
                    data.position(data.position() + frameLength);
                    decoder.accept(whole);
                    frameLength = -1;
                    continue;
                }
                if (frame == null || frame.position() == 0) {
                    frameBuffer(frameLength);
                }
                int n = Math.min(frameLength - frame.position(), data.remaining());
                ByteBuffer part = data.slice();
                part.limit(n);
                frame.put(part);
                data.position(data.position() + n);
                if (frame.position() == frameLength) {
                    decoder.accept(frame.flip());
                    frame.clear();
                    frameLength = -1;
                }
            }
        }

        /**
         * Makes {@link #frame} (empty) hold at least {@code length} bytes: a larger direct buffer is reserved in the
         * budget before the smaller one is freed, so a refused reservation leaves the round as it was.
         */
        private void frameBuffer(int length) {
            int had = frame == null ? 0 : frame.capacity();
            if (had >= length) {
                return;
            }
            // Whole 64 KiB units: a round whose frames grow a little does not reallocate for each of them.
            int capacity = (int) Math.min(MigrationWire.MAX_FRAME_BYTES, ((length + 0xFFFFL) >>> 16) << 16);
            budget.reserve(capacity - had, "round transfer " + transfer.id() + " of " + transfer.key());
            DirectBuffers.free(frame);
            frame = null;
            try {
                frame = DirectBuffers.allocate(capacity);
            } catch (OutOfMemoryError e) {
                budget.release(capacity);
                throw new DwcpException(ErrorCode.LIMIT_EXCEEDED, "round transfer " + transfer.id() + " of "
                        + transfer.key() + " needs a " + capacity + "-byte frame buffer, but direct memory is exhausted"
                        + " (-XX:MaxDirectMemorySize; lower dwcp.migration.receive-buffer to fit it)", e);
            }
        }

        private void append(ByteBuffer data, int n) {
            if (pending.remaining() < n) {
                int capacity = (int) Math.min(Integer.MAX_VALUE - 8, Math.max(2L * pending.capacity(), (long) pending.position() + n));
                budget.reserve(capacity - pending.capacity(), "round transfer " + transfer.id() + " of " + transfer.key());
                ByteBuffer bigger = ByteBuffer.allocate(capacity);
                pending.flip();
                bigger.put(pending);
                pending = bigger;
            }
            ByteBuffer part = data.slice();
            part.limit(n);
            pending.put(part);
            data.position(data.position() + n);
        }

        @Override
        public void complete() throws IOException {
            try {
                if (header == null || !ended) {
                    throw new DwcpException(ErrorCode.TRANSFER_INCOMPLETE, "round transfer " + transfer.id() + " of "
                            + transfer.key() + " ended before its end marker");
                }
                // A staged keyframe is made durable and published inside finish(), before the baseline commits.
                DecodeResult result;
                try {
                    result = decoder.finish();
                    if (replica != null) {
                        flush(replica);
                    }
                } catch (RuntimeException | Error e) {
                    failed(e);
                    throw e;
                }
                try {
                    listener.accept(new ReceivedRound(header.round(), result));
                } catch (RuntimeException e) {
                    LOG.warn("the round listener failed on round {} of {}; the round itself is committed", header.round(),
                            transfer.key(), e);
                }
            } finally {
                release();
            }
        }

        /** Tells the application of the round's failure, once, and logs it. */
        private void failed(Throwable cause) {
            if (notified) {
                return;
            }
            notified = true;
            DwcpException d = DwcpException.local("receiving round " + (header == null ? "?" : header.round()) + " of "
                    + transfer.key(), cause);
            LOG.warn("round {} of {} from {} failed: {}", header == null ? "?" : header.round(), transfer.key(), peer,
                    d.getMessage());
            try {
                failures.accept(new FailedRound(transfer.key(), header == null ? -1 : header.round(), d, peer));
            } catch (RuntimeException e) {
                LOG.warn("the failure listener failed on round of {}", transfer.key(), e);
            }
        }

        private void flush(VmState<WritableRegion> replica) {
            replica.regions().forEach(r -> {
                try {
                    r.flush();
                } catch (IOException e) {
                    throw new DwcpException(ErrorCode.IO_ERROR, "flushing replica region " + r.name() + " failed", e);
                }
            });
        }

        @Override
        public void fail(Throwable cause) {
            LOG.debug("round transfer {} of {} failed", transfer.id(), transfer.key(), cause);
            failed(cause);
            release();
        }

        private void release() {
            if (decoder != null) {
                decoder.close();
                decoder = null;
            }
            closeQuietly(replica, "closing the replica");
            replica = null;
            closeQuietly(staged, "discarding the staging replica");
            staged = null;
            budget.release(pending.capacity() + (frame == null ? 0L : frame.capacity()));
            pending = ByteBuffer.allocate(0);
            // The decoder was closed above and keeps no reference to a lent frame.
            DirectBuffers.free(frame);
            frame = null;
        }

        private void closeQuietly(AutoCloseable c, String what) {
            if (c == null) {
                return;
            }
            try {
                c.close();
            } catch (Exception e) {
                LOG.warn("{} of {} failed", what, transfer.key(), e);
            }
        }
    }
}
