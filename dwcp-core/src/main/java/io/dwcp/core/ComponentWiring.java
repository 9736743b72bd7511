package io.dwcp.core;

import io.dwcp.core.config.CoreKeys;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.config.SyncKeys;
import io.dwcp.core.path.PathMonitor;
import io.dwcp.core.spi.BandwidthPredictor;
import io.dwcp.core.spi.BlockCompressor;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.Consensus;
import io.dwcp.core.spi.ConsensusProvider;
import io.dwcp.core.spi.PlacementProvider;
import io.dwcp.core.spi.Placer;
import io.dwcp.core.spi.PredictorProvider;
import io.dwcp.core.spi.StateCodec;
import io.dwcp.core.spi.StateCodecProvider;
import io.dwcp.core.spi.SyncProvider;
import io.dwcp.core.spi.SyncService;
import io.dwcp.core.spi.TransportProvider;
import io.dwcp.core.spi.VmMetadata;
import io.dwcp.core.transport.Transport;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * The wiring half of {@link DwcpManager}: finds each provider (the builder's, else the highest-priority one
 * {@link ServiceLoader} finds), creates the components in start order (transport, compression, prediction, placement,
 * sync, consensus), each with a {@link ComponentContext} of its own, and the {@link Supervisor} that runs their
 * lifecycle. Made once, by the manager's constructor, on the building thread; nothing here starts a thread or opens a
 * socket.
 *
 * <p>Threading: every field is final and set in the constructor, so the manager and the contexts read them without a
 * lock. A context reads {@link #predictor}, {@link #vmMetadata} and {@link #supervisor} when a component asks (a
 * component created earlier may ask before they are set: it then sees none, as the manager's own fields behaved before
 * the split). The only mutable state is each context's component binding, which is volatile.
 */
final class ComponentWiring {
    private static final Logger LOG = LoggerFactory.getLogger(DwcpManager.class); // the manager's log category, as before the split

    private final DwcpConfig config;
    private final MeterRegistry registry;
    private final Clock clock;
    /** TLS material given in code, or null (the transport reads the PEM files of its configuration). */
    private final TlsCredentials tls;
    /** VM metadata given in the builder; null: the sync component's. */
    private final VmMetadata givenVmMetadata;
    final PathMonitor pathMonitor;
    /** Compresses the literal pages of seeded rounds besides DEFLATE; null when none was found or given. */
    final BlockCompressor blockCompressor;
    /** The components, each null when no provider was found or given. */
    final Transport transport;
    final StateCodec codec;
    final BandwidthPredictor predictor;
    final Placer placer;
    final SyncService sync;
    final Consensus consensus;
    /** Starts, stops and restarts the wired components, in start order. */
    final Supervisor supervisor;

    ComponentWiring(DwcpManager.Builder b, String nodeId, DwcpConfig config, NodeMeters nodeMeters, Clock clock) {
        this.config = config;
        this.registry = nodeMeters.registry();
        this.clock = clock;
        this.tls = b.tls;
        this.givenVmMetadata = b.vmMetadata;
        ClassLoader loader = b.classLoader != null ? b.classLoader : DwcpManager.class.getClassLoader();
        TransportProvider tp = b.transportProvider != null ? b.transportProvider : discover(TransportProvider.class, loader,
                TransportProvider::name, TransportProvider::priority);
        StateCodecProvider cp = b.codecProvider != null ? b.codecProvider : discover(StateCodecProvider.class, loader,
                StateCodecProvider::name, StateCodecProvider::priority);
        this.blockCompressor = b.blockCompressor != null ? b.blockCompressor : discover(BlockCompressor.class, loader,
                BlockCompressor::name, BlockCompressor::priority);
        this.pathMonitor = new PathMonitor(clock, DwcpManager.PATH_HISTORY_PER_PEER, DwcpManager.PATH_MAX_PEERS);
        List<ManagedComponent> list = new ArrayList<>();
        Context transportContext = new Context();
        this.transport = tp == null ? null : tp.create(transportContext);
        if (transport != null) {
            list.add(transportContext.bind(new ManagedComponent(transport)));
        }
        Context codecContext = new Context();
        this.codec = cp == null ? null : cp.create(codecContext);
        if (codec != null) {
            list.add(codecContext.bind(new ManagedComponent(codec)));
        }
        PredictorProvider pp = b.predictorProvider != null ? b.predictorProvider : discover(PredictorProvider.class, loader,
                PredictorProvider::name, PredictorProvider::priority);
        Context predictorContext = new Context();
        this.predictor = pp == null ? null : pp.create(predictorContext, pathMonitor);
        if (predictor != null) {
            list.add(predictorContext.bind(new ManagedComponent(predictor)));
        }
        PlacementProvider lp = b.placementProvider != null ? b.placementProvider : discover(PlacementProvider.class, loader,
                PlacementProvider::name, PlacementProvider::priority);
        Context placerContext = new Context();
        this.placer = lp == null ? null : lp.create(placerContext);
        if (placer != null) {
            list.add(placerContext.bind(new ManagedComponent(placer)));
        }
        SyncProvider sp = !config.get(SyncKeys.ENABLED) || transport == null ? null
                : b.syncProvider != null ? b.syncProvider : discover(SyncProvider.class, loader, SyncProvider::name, SyncProvider::priority);
        Context syncContext = new Context();
        this.sync = sp == null ? null : sp.create(syncContext, transport);
        if (sync != null) {
            list.add(syncContext.bind(new ManagedComponent(sync)));
        }
        ConsensusProvider ap = b.consensusProvider != null ? b.consensusProvider : discover(ConsensusProvider.class, loader,
                ConsensusProvider::name, ConsensusProvider::priority);
        Context consensusContext = new Context();
        this.consensus = ap == null ? null : ap.create(consensusContext);
        if (consensus != null) {
            list.add(consensusContext.bind(new ManagedComponent(consensus)));
        }
        this.supervisor = new Supervisor(nodeId, list, config, nodeMeters, b.scheduler);
        LOG.debug("DWCP manager {} wired: transport={}, codec={}, predictor={}, placement={}, sync={}, consensus={}", nodeId,
                tp == null ? "none" : tp.name(), cp == null ? "none" : cp.name(), pp == null ? "none" : pp.name(),
                lp == null ? "none" : lp.name(), sp == null ? "none" : sp.name(), ap == null ? "none" : ap.name());
    }

    /** The VM metadata given in the builder, else the sync component's (read when asked: sync starts late). */
    Optional<VmMetadata> vmMetadata() {
        if (givenVmMetadata != null) {
            return Optional.of(givenVmMetadata);
        }
        return sync == null ? Optional.empty() : sync.vmMetadata();
    }

    private static <P> P discover(Class<P> type, ClassLoader loader, java.util.function.Function<P, String> name,
                                  java.util.function.ToIntFunction<P> priority) {
        List<P> found = new ArrayList<>();
        for (P p : ServiceLoader.load(type, loader)) {
            found.add(p);
        }
        if (found.isEmpty()) {
            LOG.debug("no {} on the class path", type.getSimpleName());
            return null;
        }
        found.sort(Comparator.comparingInt(priority).reversed());
        if (found.size() > 1) {
            LOG.warn("several {}s found ({}); using '{}' (highest priority); set one in the builder to choose",
                    type.getSimpleName(), found.stream().map(name).toList(), name.apply(found.get(0)));
        }
        return found.get(0);
    }

    /** The context handed to one provider; bound to its component once created. */
    private final class Context implements ComponentContext {
        private volatile ManagedComponent managed;

        ManagedComponent bind(ManagedComponent mc) {
            this.managed = mc;
            return mc;
        }

        @Override
        public DwcpConfig config() {
            return config;
        }

        @Override
        public MeterRegistry meterRegistry() {
            return registry;
        }

        @Override
        public Clock clock() {
            return clock;
        }

        @Override
        public int workerThreads() {
            return config.get(CoreKeys.CPU_MAX_THREADS);
        }

        @Override
        public Optional<PathMonitor> pathMonitor() {
            return Optional.of(ComponentWiring.this.pathMonitor);
        }

        @Override
        public Optional<BandwidthPredictor> predictor() {
            // Read at decision time: the predictor is created after the transport and the codec.
            return Optional.ofNullable(ComponentWiring.this.predictor);
        }

        @Override
        public Optional<VmMetadata> vmMetadata() {
            return ComponentWiring.this.vmMetadata(); // read at decision time: sync starts after the placer
        }

        @Override
        public Optional<TlsCredentials> tlsCredentials() {
            return Optional.ofNullable(tls);
        }

        @Override
        public void reportFailure(Throwable cause) {
            ManagedComponent mc = managed;
            if (mc == null || supervisor == null) {
                LOG.error("a component reported a failure before the manager finished building it", cause);
                return;
            }
            try {
                supervisor.onFailure(mc, cause);
            } catch (RuntimeException e) {
                // reportFailure must never throw into a component's thread (ComponentContext contract).
                LOG.error("handling the failure of '{}' failed", mc.name(), e);
            }
        }
    }
}
