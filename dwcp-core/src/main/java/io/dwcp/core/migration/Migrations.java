package io.dwcp.core.migration;

import io.dwcp.core.Tier;
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
     */
    public static MigrationSender sender(StateCodec codec, Tier pinnedTier, io.dwcp.core.DataRate rateCap, Duration replyTimeout,
                                         MeterRegistry registry, java.util.Set<String> keysInFlight,
                                         java.util.concurrent.ScheduledExecutorService scheduler) {
        return new MigrationSender(codec, pinnedTier, rateCap, replyTimeout, registry, keysInFlight, scheduler);
    }

    /** The handler a sender's session must be opened with, to receive baseline replies. */
    public static io.dwcp.core.spi.TransferHandler replyHandler(MigrationSender sender) {
        return sender.replyHandler();
    }

    /**
     * Binds a sender to the session opened with {@link #replyHandler}; its rounds go over that session.
     *
     * @param sender the sender
     * @param session the session, opened with the sender's reply handler
     */
    public static void bind(MigrationSender sender, io.dwcp.core.spi.Session session) {
        sender.bind(session);
    }

    /** A receiver; {@code buffers} bounds the partial frames held by all rounds of every receiver that shares it. */
    public static MigrationReceiver receiver(StateCodec codec, ReplicaFactory replicas, Consumer<MigrationReceiver.ReceivedRound> listener,
                                             Consumer<MigrationReceiver.FailedRound> failures, ReceiveBuffers buffers) {
        return new MigrationReceiver(codec, replicas, listener, failures, buffers);
    }
}
