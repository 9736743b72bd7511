package io.dwcp.core;

import io.dwcp.core.config.ConfigKey;
import io.dwcp.core.config.ConfigUpdates;
import io.dwcp.core.config.CoreKeys;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.config.TransportKeys;
import io.dwcp.core.migration.MigrationReceiver;
import io.dwcp.core.migration.MigrationSender;
import io.dwcp.core.migration.Migration;
import io.dwcp.core.migration.Migrations;
import io.dwcp.core.migration.ReceiveBuffers;
import io.dwcp.core.migration.ReplicaFactory;
import io.dwcp.core.path.PathMonitor;
import io.dwcp.core.spi.BandwidthPredictor;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.Consensus;
import io.dwcp.core.spi.BlockCompressor;
import io.dwcp.core.spi.ConsensusProvider;
import io.dwcp.core.spi.PredictorProvider;
import io.dwcp.core.spi.PlacementProvider;
import io.dwcp.core.spi.Placer;
import io.dwcp.core.spi.StateCodec;
import io.dwcp.core.spi.StateCodecProvider;
import io.dwcp.core.spi.SyncProvider;
import io.dwcp.core.spi.SyncService;
import io.dwcp.core.spi.VmMetadata;
import io.dwcp.core.transport.Transport;
import io.dwcp.core.spi.TransportProvider;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The one entry point of DWCP: wires the providers found on the class path (or given to the builder),
 * starts them in dependency order (transport, compression, then prediction, placement, sync and consensus), stops them in reverse, reports health and restarts a
 * component that fails while running.
 *
 * <pre>{@code
 * try (DwcpManager dwcp = DwcpManager.builder().config(config).meterRegistry(registry).build()) {
 *     dwcp.start();
 *     Session session = dwcp.transport().connect(peer, handler).get();
 *     ...
 * }
 * }</pre>
 *
 * <p>Lifecycle: NEW → STARTING → RUNNING → STOPPING → STOPPED; a failed start leaves it FAILED. STOPPED and
 * FAILED may start again; {@link #start()}, {@link #stop()} and {@link #close()} are idempotent; after
 * {@link #close()} nothing starts again. The manager starts with no peer: peers appear through the transport's
 * {@code listen} and {@code connect}.
 *
 * <p>Recovery: a component that reports a failure ({@link ComponentContext#reportFailure}) is marked FAILED, stopped,
 * and restarted after {@code recovery.initial-backoff} (1 s), doubling per attempt (2 s, 4 s), at most
 * {@code recovery.max-attempts} (3) times per manager start; then it stays FAILED and health reports it. Other
 * components keep running.
 *
 * <p>Thread-safe. Lifecycle methods block the caller (never call them from a transport event loop).
 */
public final class DwcpManager implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DwcpManager.class);

    /** The live view of {@link #updates}: what components read. */
    private final DwcpConfig config;
    /** Run-time changes of dynamic keys ({@link #updateConfig}). */
    private final ConfigUpdates updates;
    /** This manager's meters: tagged {@code node} = {@link #nodeId}, forwarded to the user's registry until stop. */
    private final NodeMeters nodeMeters;
    /** Where this manager and its components register: {@code nodeMeters.registry()}. */
    private final MeterRegistry registry;
    private final String nodeId;
    /** Samples per peer the path monitor keeps: one hour at the default one-second sampling. */
    static final int PATH_HISTORY_PER_PEER = 3600;
    /** Peers the path monitor tracks at once. */
    static final int PATH_MAX_PEERS = 1024;

    /** Starts, stops and restarts the components (in start order: transport, compression, prediction, placement, sync, consensus). */
    private final Supervisor supervisor;
    private final Transport transport;
    private final StateCodec codec;
    /** Compresses the literal pages of seeded rounds besides DEFLATE; null when none was found or given. */
    private final BlockCompressor blockCompressor;
    private final PathMonitor pathMonitor;
    private final BandwidthPredictor predictor;
    private final Consensus consensus;
    private final SyncService sync;
    private final Placer placer;
    /**
     * The component graph: provider discovery, the components and their contexts, and the supervisor
     * ({@link ComponentWiring}); the fields above are its components, copied for the accessors.
     */
    private final ComponentWiring wiring;
    /** State keys with a round in flight on any sender of this manager (one writer per key). */
    private final Set<String> sendingKeys = ConcurrentHashMap.newKeySet();
    /** Partial-frame memory of every migration receiver of this manager ({@code dwcp.migration.receive-buffer}). */
    private final ReceiveBuffers receiveBudget;

    private DwcpManager(Builder b) {
        this.updates = new ConfigUpdates(b.config);
        this.config = updates.view();
        this.receiveBudget = ReceiveBuffers.of(config.get(CoreKeys.MIGRATION_RECEIVE_BUFFER).bytes(),
                config.get(CoreKeys.MIGRATION_RECEIVE_BUFFER_PER_PEER).bytes());
        this.nodeId = config.get(CoreKeys.NODE_ID).orElseGet(() -> {
            String id = "node-" + UUID.randomUUID().toString().substring(0, 8);
            LOG.info("dwcp.node-id not set; using random id {}", id);
            return id;
        });
        this.nodeMeters = new NodeMeters(b.registry != null ? b.registry : new SimpleMeterRegistry(), nodeId);
        this.registry = nodeMeters.registry();
        ComponentWiring wiring = new ComponentWiring(b, nodeId, config, nodeMeters, b.clock);
        this.pathMonitor = wiring.pathMonitor;
        this.blockCompressor = wiring.blockCompressor;
        this.transport = wiring.transport;
        this.codec = wiring.codec;
        this.predictor = wiring.predictor;
        this.placer = wiring.placer;
        this.sync = wiring.sync;
        this.consensus = wiring.consensus;
        this.wiring = wiring;
        this.supervisor = wiring.supervisor;
    }

    /** @return a builder of a manager, with the default configuration until one is set */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Starts every component in dependency order. Idempotent while running. If a component fails to start, the ones
     * already started are stopped in reverse order and the manager is FAILED.
     *
     * @throws DwcpException naming the failing component (its code when it threw a {@code DwcpException}, else
     *     {@code ILLEGAL_STATE}); {@code ILLEGAL_STATE} after {@link #close()}
     */
    public void start() {
        supervisor.start();
    }

    /**
     * Stops every component in reverse order, cancels pending recoveries and removes meters. Idempotent. A component
     * that fails to stop does not keep the others from stopping; the failures are thrown together afterwards.
     *
     * @throws DwcpException {@code ILLEGAL_STATE} with every stop failure attached as suppressed
     */
    public void stop() {
        supervisor.stop();
    }

    /** Stops, then refuses further starts. Idempotent. */
    @Override
    public void close() {
        supervisor.close();
    }

    /** {@return lifecycle state of the manager} */
    public ComponentState state() {
        return supervisor.state();
    }

    /**
     * Lifecycle state of one component, by name.
     *
     * @param name the component's name ({@code transport}, {@code compression}, ...)
     * @return its state
     * @throws IllegalArgumentException when no component has that name
     */
    public ComponentState componentState(String name) {
        return supervisor.find(name).state;
    }

    /**
     * Restarts of one component since the manager was built.
     *
     * @param name the component's name
     * @return automatic restarts after run-time failures
     * @throws IllegalArgumentException when no component has that name
     */
    public long restarts(String name) {
        return supervisor.find(name).restarts;
    }

    /** {@return names of the wired components, in start order} */
    public List<String> componentNames() {
        return Supervisor.names(supervisor.components());
    }

    /** {@return health of each component, computed now} */
    public Map<String, Health> componentHealth() {
        return supervisor.componentHealth();
    }

    /** {@return the aggregate health: the worst component's status; UNKNOWN when the manager is not running} */
    public Health health() {
        return supervisor.health();
    }

    /**
     * The transport.
     *
     * @return the transport
     * @throws DwcpException {@code ILLEGAL_STATE} when no transport provider was found or given
     */
    public Transport transport() {
        if (transport == null) {
            throw new DwcpException(ErrorCode.ILLEGAL_STATE,
                    "no transport provider: add io.dwcp:dwcp-transport to the class path or call Builder.transportProvider");
        }
        return transport;
    }

    /**
     * The state codec.
     *
     * @return the state codec
     * @throws DwcpException {@code ILLEGAL_STATE} when no codec provider was found or given
     */
    public StateCodec codec() {
        if (codec == null) {
            throw new DwcpException(ErrorCode.ILLEGAL_STATE,
                    "no state codec provider: add io.dwcp:dwcp-compression to the class path or call Builder.codecProvider");
        }
        return codec;
    }

    /**
     * The bandwidth predictor, when a provider was found or given. Empty means no forecasts: consumers act on
     * measurement alone.
     *
     * @return the predictor, or empty
     */
    public Optional<BandwidthPredictor> predictor() {
        return Optional.ofNullable(predictor);
    }

    /** {@return the path monitor: per-peer measured samples; the transport records, the predictor reads} */
    public PathMonitor pathMonitor() {
        return pathMonitor;
    }

    /**
     * The consensus service.
     *
     * @return the consensus service
     * @throws DwcpException {@code ILLEGAL_STATE} when no consensus provider was found or given
     */
    public Consensus consensus() {
        if (consensus == null) {
            throw new DwcpException(ErrorCode.ILLEGAL_STATE,
                    "no consensus provider: add io.dwcp:dwcp-consensus to the class path or call Builder.consensusProvider");
        }
        return consensus;
    }

    /**
     * The placer (VM placement across sites and move plans).
     *
     * @return the placer
     * @throws DwcpException {@code ILLEGAL_STATE} when no placement provider was found or given
     */
    public Placer placer() {
        if (placer == null) {
            throw new DwcpException(ErrorCode.ILLEGAL_STATE,
                    "no placement provider: add io.dwcp:dwcp-partition to the class path or call Builder.placementProvider");
        }
        return placer;
    }

    /**
     * The configuration: the one this manager was built with, plus the changes made since through
     * {@link #updateConfig}. A live view: its dynamic keys follow later changes; take {@code toBuilder().build()} for a
     * snapshot.
     *
     * @return the configuration
     */
    public DwcpConfig config() {
        return config;
    }

    /**
     * Changes a dynamic key (the {@code dynamic} column of the configuration reference) while the manager runs or
     * not. The change is validated like a whole configuration and applies in full or not at all; then every running
     * component is told ({@code Component.configChanged}). Where it takes effect: {@code dwcp.transport.rate-cap}
     * and {@code global-rate-cap} at once on every session; {@code dwcp.compression.level.*} from the next round;
     * {@code dwcp.tier.pin} for sessions (and migrations) opened after the change. A restart keeps the change.
     *
     * @param key the key
     * @param value the new value
     * @param <T> the type of its value
     * @throws DwcpException {@code INVALID_CONFIG} when the key is not dynamic or the value breaks a rule (nothing
     *     changes); {@code INTERNAL_ERROR} when a component failed to apply it (the others did)
     */
    public <T> void updateConfig(ConfigKey<T> key, T value) {
        supervisor.changeConfig(() -> updates.set(key, value), () -> key);
    }

    /**
     * Changes a dynamic key from its text form, e.g. {@code updateConfig("dwcp.transport.rate-cap", "200Mbit/s")};
     * see {@link #updateConfig(ConfigKey, Object)}.
     *
     * @param key the key's name
     * @param text the value's text form ({@code none} removes an optional value such as a rate cap)
     * @throws DwcpException {@code INVALID_CONFIG} when the name is unknown, the key is not dynamic or the value does
     *     not parse or breaks a rule (nothing changes); {@code INTERNAL_ERROR} when a component failed to apply it
     */
    public void updateConfig(String key, String text) {
        supervisor.changeConfig(() -> updates.set(key, text), () -> io.dwcp.core.config.ConfigSchema.key(key));
    }

    /**
     * Connects to a migration receiver and returns a sender for iterative pre-copy rounds. The sender owns
     * the session; close it when the migration is over.
     *
     * @param receiver the address a migration receiver listens on
     * @return a future of the connected sender; it fails when the connection does not succeed
     * @throws DwcpException {@code ILLEGAL_STATE} when the manager is not running
     */
    public CompletableFuture<MigrationSender> openMigration(InetSocketAddress receiver) {
        supervisor.requireRunning("openMigration");
        MigrationSender sender = Migrations.sender(codec(), config.pinnedTier().orElse(null),
                config.get(TransportKeys.RATE_CAP).orElse(null), config.get(TransportKeys.IO_TIMEOUT), registry, sendingKeys, supervisor.scheduler(),
                blockCompressor);
        return transport().connect(receiver, Migrations.replyHandler(sender)).thenApply(session -> {
            Migrations.bind(sender, session);
            return sender;
        });
    }

    /**
     * A pre-copy migration over {@code sender} of the state {@code source} gives, with {@code dwcp.migration.max-rounds}
     * and {@code dwcp.migration.downtime-budget} from this manager's configuration (the builder may change them), and,
     * when a predictor runs, its advice for the path to the receiver for the stop rule
     * ({@link Migration.Builder#forecasts}); {@code build().start()} runs it.
     *
     * @param sender the sender of {@link #openMigration}, connected to the receiver
     * @param source the state and the caller's pause step
     * @return a builder of the migration
     */
    public Migration.Builder migration(MigrationSender sender, Migration.Source source) {
        Migration.Builder b = Migration.builder(sender, source)
                .maxRounds(config.get(CoreKeys.MIGRATION_MAX_ROUNDS))
                .downtimeBudget(config.get(CoreKeys.MIGRATION_DOWNTIME_BUDGET));
        vmMetadata().ifPresent(b::metadata); // recorded only for a migration that names its VM (Migration.Builder.vm)
        predictor().ifPresent(p -> b.forecasts(p::advice));
        return b;
    }

    /**
     * The cluster's VM metadata (placement, migration phase, baseline version): the one given in the builder, else the
     * sync component's. The migration loop records into it; the placer reads current placements from it.
     *
     * @return the VM metadata, empty without a sync component (or before it started) and without one given
     */
    public Optional<VmMetadata> vmMetadata() {
        return wiring.vmMetadata();
    }

    /**
     * The metadata-replication component (started after the transport).
     *
     * @return the sync service
     * @throws DwcpException {@code ILLEGAL_STATE} when no sync provider was found or given, sync is disabled
     *     ({@code dwcp.sync.enabled}), or no transport is wired
     */
    public SyncService sync() {
        if (sync == null) {
            throw new DwcpException(ErrorCode.ILLEGAL_STATE, "no sync component: put dwcp-sync on the class path or set "
                    + "Builder.syncProvider(...), keep dwcp.sync.enabled true, and wire a transport");
        }
        return sync;
    }

    /**
     * A handler that receives migrations into replicas opened by {@code replicas}; pass it to
     * {@code transport().listen(address, handler)}. {@code onRound} is called after each verified, committed round;
     * failed rounds are logged at WARN (use the three-argument form to hear of them).
     *
     * @param replicas opens the replica of each state key
     * @param onRound called after each verified, committed round
     * @return the handler to listen with
     */
    public MigrationReceiver migrationReceiver(ReplicaFactory replicas, Consumer<MigrationReceiver.ReceivedRound> onRound) {
        return migrationReceiver(replicas, onRound, failed -> { });
    }

    /**
     * As {@link #migrationReceiver(ReplicaFactory, Consumer)}; {@code onFailure} is called once for every round that
     * failed at this receiver, with the cause and its code (the sender gets the same code). Listeners run on a
     * transport delivery thread: keep them short; an exception they throw is logged and ignored.
     *
     * @param replicas opens the replica of each state key
     * @param onRound called after each verified, committed round
     * @param onFailure called once for each failed round
     * @return the handler to listen with
     */
    public MigrationReceiver migrationReceiver(ReplicaFactory replicas, Consumer<MigrationReceiver.ReceivedRound> onRound,
                                               Consumer<MigrationReceiver.FailedRound> onFailure) {
        return Migrations.receiver(codec(), replicas, onRound, onFailure, receiveBudget, blockCompressor);
    }

    /**
     * The registry given to the builder (or the {@code SimpleMeterRegistry} the manager made when none was). While
     * the manager runs, every meter of this manager, its components and its migrations is there with the tag
     * {@code node} = {@link #nodeId()}; stopping the manager removes exactly those meters, so several managers can
     * share one registry.
     *
     * @return the application's registry
     */
    public MeterRegistry meterRegistry() {
        return nodeMeters.target();
    }

    /** {@return this node's id ({@code dwcp.node-id}, or the random one chosen at build)} */
    public String nodeId() {
        return nodeId;
    }

    /** Builder of a {@link DwcpManager}. Not thread-safe. */
    public static final class Builder {
        // Package-private: ComponentWiring reads what was set.
        DwcpConfig config = DwcpConfig.defaults();
        MeterRegistry registry;
        Clock clock = Clock.systemUTC();
        ScheduledExecutorService scheduler;
        TransportProvider transportProvider;
        StateCodecProvider codecProvider;
        BlockCompressor blockCompressor;
        PredictorProvider predictorProvider;
        ConsensusProvider consensusProvider;
        SyncProvider syncProvider;
        PlacementProvider placementProvider;
        VmMetadata vmMetadata;
        ClassLoader classLoader;
        TlsCredentials tls;

        private Builder() {
        }

        /**
         * The configuration; {@code DwcpConfig.builder().build()} (defaults, system properties, environment) when
         * not set.
         *
         * @param config the configuration
         * @return this builder
         */
        public Builder config(DwcpConfig config) {
            this.config = Objects.requireNonNull(config, "config");
            return this;
        }

        /**
         * Where meters go; a {@link SimpleMeterRegistry} when not set.
         *
         * @param registry the application's registry, which several managers may share
         * @return this builder
         */
        public Builder meterRegistry(MeterRegistry registry) {
            this.registry = Objects.requireNonNull(registry, "registry");
            return this;
        }

        /**
         * The clock components read (for tests); the system UTC clock by default.
         *
         * @param clock the clock
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * Runs recovery timers (for tests). The caller owns it: the manager never shuts it down. By default the
         * manager creates one daemon thread while running.
         *
         * @param scheduler the scheduler
         * @return this builder
         */
        public Builder scheduler(ScheduledExecutorService scheduler) {
            this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
            return this;
        }

        /**
         * Uses this transport instead of the one {@link ServiceLoader} finds.
         *
         * @param provider the transport provider
         * @return this builder
         */
        public Builder transportProvider(TransportProvider provider) {
            this.transportProvider = Objects.requireNonNull(provider, "provider");
            return this;
        }

        /**
         * Uses this codec instead of the one {@link ServiceLoader} finds.
         *
         * @param provider the codec provider
         * @return this builder
         */
        public Builder codecProvider(StateCodecProvider provider) {
            this.codecProvider = Objects.requireNonNull(provider, "provider");
            return this;
        }

        /**
         * Uses this block compressor (the literal pages of replica-seeded rounds) instead of the one
         * {@link ServiceLoader} finds.
         *
         * @param compressor the block compressor
         * @return this builder
         */
        public Builder blockCompressor(BlockCompressor compressor) {
            this.blockCompressor = Objects.requireNonNull(compressor, "compressor");
            return this;
        }

        /**
         * Uses this bandwidth predictor instead of the one {@link ServiceLoader} finds.
         *
         * @param provider the predictor provider
         * @return this builder
         */
        public Builder predictorProvider(PredictorProvider provider) {
            this.predictorProvider = Objects.requireNonNull(provider, "provider");
            return this;
        }

        /**
         * Uses this consensus service instead of the one {@link ServiceLoader} finds.
         *
         * @param provider the consensus provider
         * @return this builder
         */
        public Builder consensusProvider(ConsensusProvider provider) {
            this.consensusProvider = Objects.requireNonNull(provider, "provider");
            return this;
        }

        /**
         * Uses this sync provider instead of the one {@link ServiceLoader} finds.
         *
         * @param provider the provider
         * @return this builder
         */
        public Builder syncProvider(SyncProvider provider) {
            this.syncProvider = Objects.requireNonNull(provider, "provider");
            return this;
        }

        /**
         * Uses this placer instead of the one {@link ServiceLoader} finds.
         *
         * @param provider the provider
         * @return this builder
         */
        public Builder placementProvider(PlacementProvider provider) {
            this.placementProvider = Objects.requireNonNull(provider, "provider");
            return this;
        }

        /**
         * Uses this VM metadata (placement, migration phase, baseline version) instead of the sync component's, e.g. a
         * control plane's own store.
         *
         * @param metadata the VM metadata
         * @return this builder
         */
        public Builder vmMetadata(VmMetadata metadata) {
            this.vmMetadata = Objects.requireNonNull(metadata, "metadata");
            return this;
        }

        /**
         * The class loader searched for providers; this class's loader by default.
         *
         * @param loader the class loader
         * @return this builder
         */
        public Builder classLoader(ClassLoader loader) {
            this.classLoader = Objects.requireNonNull(loader, "loader");
            return this;
        }

        /**
         * TLS from a {@link java.security.KeyStore} or an {@link javax.net.ssl.SSLContext} instead of the PEM files of
         * {@code dwcp.transport.tls.certificate}, {@code private-key} and {@code trusted-ca} (which must then be left
         * unset). {@code dwcp.transport.tls.enabled} must stay true and {@code tls.mutual} still applies. The
         * transport checks them at {@link DwcpManager#start()}.
         *
         * @param credentials the node's key and the CAs it trusts, see {@link TlsCredentials}
         * @return this builder
         */
        public Builder tls(TlsCredentials credentials) {
            this.tls = Objects.requireNonNull(credentials, "credentials");
            return this;
        }

        /**
         * Creates the components (no threads, no sockets until {@link DwcpManager#start()}).
         *
         * @return the manager, not started
         */
        public DwcpManager build() {
            return new DwcpManager(this);
        }
    }
}
