package io.dwcp.core.migration;

import io.dwcp.core.Tier;
import io.dwcp.core.spi.BlockCompressor;
import io.dwcp.core.spi.StateCodec;
import io.micrometer.core.instrument.MeterRegistry;

import java.time.Duration;
import java.util.function.Consumer;

/**
 * Factory the manager uses to create migration endpoints (keeps their constructors out of the public API).
 * Not for users: call {@code DwcpManager.openMigration} and {@code DwcpManager.migrationReceiver}.
 */
public final class Migrations {
    private Migrations() {
    }

    /**
     * A sender not yet bound to a session; bind it with {@link #bind} once the session is open. {@code pinnedTier}
     * null means: use the tier the transport measured. {@code rateCap} (or null) bounds the link-rate planning.
     * {@code keysInFlight} is shared by every sender of one codec: a key in it has a round running.
     *
     * @param codec the codec that encodes the rounds
     * @param pinnedTier the pinned tier, or null
     * @param rateCap the configured rate cap, or null
     * @param replyTimeout how long to wait for a receiver's reply
     * @param registry where the {@code dwcp.migration.*} meters go
     * @param keysInFlight the keys with a round running
     * @param scheduler runs progress and timeouts
     * @return the sender
     */
    public static MigrationSender sender(StateCodec codec, Tier pinnedTier, io.dwcp.core.DataRate rateCap, Duration replyTimeout,
                                         MeterRegistry registry, java.util.Set<String> keysInFlight,
                                         java.util.concurrent.ScheduledExecutorService scheduler) {
        return sender(codec, pinnedTier, rateCap, replyTimeout, registry, keysInFlight, scheduler, null);
    }

    /**
     * As {@link #sender(StateCodec, Tier, io.dwcp.core.DataRate, Duration, MeterRegistry, java.util.Set,
     * java.util.concurrent.ScheduledExecutorService)}; seeded rounds offer {@code compressor}'s format for their
     * literal pages (the receiver chooses; DEFLATE otherwise).
     *
     * @param codec the codec that encodes the rounds
     * @param pinnedTier the pinned tier, or null
     * @param rateCap the configured rate cap, or null
     * @param replyTimeout how long to wait for a receiver's reply
     * @param registry where the {@code dwcp.migration.*} meters go
     * @param keysInFlight the keys with a round running
     * @param scheduler runs progress and timeouts
     * @param compressor the block compressor, or null for DEFLATE only
     * @return the sender
     */
    public static MigrationSender sender(StateCodec codec, Tier pinnedTier, io.dwcp.core.DataRate rateCap, Duration replyTimeout,
                                         MeterRegistry registry, java.util.Set<String> keysInFlight,
                                         java.util.concurrent.ScheduledExecutorService scheduler, BlockCompressor compressor) {
        return new MigrationSender(codec, pinnedTier, rateCap, replyTimeout, registry, keysInFlight, scheduler, compressor);
    }

    /**
     * The handler a sender's session must be opened with, to receive baseline replies.
     *
     * @param sender the sender
     * @return the handler
     */
    public static io.dwcp.core.transport.TransferHandler replyHandler(MigrationSender sender) {
        return sender.replyHandler();
    }

    /**
     * Binds a sender to the session opened with {@link #replyHandler}; its rounds go over that session.
     *
     * @param sender the sender
     * @param session the session, opened with the sender's reply handler
     */
    public static void bind(MigrationSender sender, io.dwcp.core.transport.Session session) {
        sender.bind(session);
    }

    /**
     * A receiver; {@code buffers} bounds the partial frames held by all rounds of every receiver that shares it.
     *
     * @param codec the codec that decodes the rounds
     * @param replicas opens the replica of each key
     * @param listener called after each committed round
     * @param failures called once for each failed round
     * @param buffers the budget of partial frames
     * @return the receiver
     */
    public static MigrationReceiver receiver(StateCodec codec, ReplicaFactory replicas, Consumer<MigrationReceiver.ReceivedRound> listener,
                                             Consumer<MigrationReceiver.FailedRound> failures, ReceiveBuffers buffers) {
        return receiver(codec, replicas, listener, failures, buffers, null);
    }

    /**
     * As {@link #receiver(StateCodec, ReplicaFactory, Consumer, Consumer, ReceiveBuffers)}; seeded rounds may send
     * their literal pages in {@code compressor}'s format.
     *
     * @param codec the codec that decodes the rounds
     * @param replicas opens the replica of each key
     * @param listener called after each committed round
     * @param failures called once for each failed round
     * @param buffers the budget of partial frames
     * @param compressor the block compressor, or null for DEFLATE only
     * @return the receiver
     */
    public static MigrationReceiver receiver(StateCodec codec, ReplicaFactory replicas, Consumer<MigrationReceiver.ReceivedRound> listener,
                                             Consumer<MigrationReceiver.FailedRound> failures, ReceiveBuffers buffers,
                                             BlockCompressor compressor) {
        return new MigrationReceiver(codec, replicas, listener, failures, buffers, compressor);
    }
}
