package io.dwcp.consensus;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.config.ConsensusKeys;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.Consensus;
import io.dwcp.core.spi.MetadataStore;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Consensus across regions (sites): one Raft group per region (Multi-Raft), and three scopes over them.
 *
 * <ul>
 *   <li><b>LOCAL</b> ({@link #local()}): the group of this node's region; its quorums never leave the region.</li>
 *   <li><b>REGIONAL</b> ({@link #region(String)}): the group of a named region; keys of different regions are
 *       ordered independently, so a region keeps committing while another is cut off.</li>
 *   <li><b>GLOBAL</b> ({@link #global()}): keys ordered across regions by <em>home-region ownership</em>: each key is
 *       ordered by the group of its home region; a writer in another region sends its commands to that group, so a
 *       key written from its home region commits at that region's latency. The home moves by a committed hand-off
 *       ({@link #moveHome}): a fence committed in the old home, then an install in the new one carrying the value; a
 *       hand-off interrupted between the two is completed by the next client that meets the fence.</li>
 * </ul>
 *
 * Every scope is linearizable per key, as {@link Consensus} states; versions of global keys stay monotonic across
 * moves (they are {@code (epoch << 40) | log index}). Each region's replicas are ordinary consensus replicas (e.g.
 * {@link ConsensusNode}) started with {@code dwcp.consensus.group} = the region's name and {@code peers} = its voters.
 *
 * <pre>{@code
 * ScopedConsensus acp = ScopedConsensus.builder(config)
 *         .region("eu", "e1@10.0.0.1:9871,e2@10.0.0.2:9871,e3@10.0.0.3:9871")
 *         .region("us", "u1@10.1.0.1:9871,u2@10.1.0.2:9871,u3@10.1.0.3:9871")
 *         .localRegion("eu").initialHome(key -> "eu").build();
 * acp.start();
 * acp.global().write("plan/current", "p-17").get();     // commits in eu's group
 * acp.moveHome("plan/current", "us").get();              // now ordered by us' group
 * }</pre>
 *
 * <p><b>Automatic home moves</b> ({@code dwcp.consensus.home.auto-move}, on by default when a local region is set):
 * every {@code evaluate-interval} this node judges, for each global key it used, whether the key is used mostly from
 * its region — at least 10 of its operations went to another region's group, at least {@code locality-threshold} of
 * them without another writer's change in between, and the latency saved until the next allowed move beats
 * {@code switch.benefit-margin} × the move's cost — and moves the key's home here after
 * {@code switch.stable-evaluations} such evaluations in a row, never within {@code switch.min-interval} of the key's
 * last move. A move is the same committed hand-off as {@link #moveHome}.
 *
 * <p>Pitfalls: a key used through {@link #global()} lives as register {@code g/<key>} of the regional groups; do not
 * write those registers through {@link #region(String)}.
 *
 * <p>Thread-safe. {@link #close()} stops the evaluations and every regional client or replica it started; idempotent.
 */
public final class ScopedConsensus implements AutoCloseable {
    private static final Pattern REGION = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final Logger LOG = LoggerFactory.getLogger(ScopedConsensus.class);

    private final Map<String, RatisConsensus> groups;
    private final String localRegion;
    private final HomeRegionRegisters global;
    /** The sync component's store for EVENTUAL operations, or null (they then go through the local scope). */
    private final MetadataStore eventualStore;
    /** The locality rule, when this node has a region and home.auto-move is on; else null. */
    private final HomeMoves homeMoves;
    private final Duration evaluateInterval;
    /** Runs the locality evaluations while started (null otherwise); guarded by this. */
    private ScheduledExecutorService evaluator;
    private boolean started;
    private boolean closed;

    private ScopedConsensus(Builder b) {
        Map<String, RatisConsensus> g = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : b.regions.entrySet()) {
            DwcpConfig c = b.config.toBuilder()
                    .set(ConsensusKeys.GROUP, e.getKey())
                    .set("dwcp.consensus.peers", e.getValue())
                    .build();
            g.put(e.getKey(), new RatisConsensus(ComponentContext.standalone(c, b.registry, 2)));
        }
        this.groups = Collections.unmodifiableMap(g);
        this.localRegion = b.localRegion;
        this.eventualStore = b.eventualStore;
        String first = b.regions.keySet().iterator().next();
        Function<String, String> home = b.initialHome != null ? b.initialHome : key -> first;
        this.global = new HomeRegionRegisters(Map.copyOf(g), home);
        this.evaluateInterval = b.config.get(ConsensusKeys.EVALUATE_INTERVAL);
        if (localRegion != null && b.config.get(ConsensusKeys.HOME_AUTO_MOVE)) {
            HomeMoves.Settings settings = new HomeMoves.Settings(evaluateInterval,
                    b.config.get(ConsensusKeys.LOCALITY_THRESHOLD), b.config.get(ConsensusKeys.SWITCH_STABLE_EVALUATIONS),
                    b.config.get(ConsensusKeys.SWITCH_MIN_INTERVAL), b.config.get(ConsensusKeys.SWITCH_BENEFIT_MARGIN));
            this.homeMoves = new HomeMoves(settings, localRegion, System::nanoTime);
            global.observer(homeMoves::record);
        } else {
            this.homeMoves = null;
        }
    }

    /**
     * A builder whose regional groups take their settings (timeouts, node id, storage directory) from {@code config}.
     *
     * @param config base configuration; {@code dwcp.consensus.group} and {@code peers} are set per region
     * @return a builder
     */
    public static Builder builder(DwcpConfig config) {
        return new Builder(Objects.requireNonNull(config, "config"));
    }

    /**
     * Starts a client of every regional group, and this node's replica in the group that lists its node id.
     *
     * @throws IOException when a group cannot be started (those already started are stopped again)
     */
    public synchronized void start() throws IOException {
        if (closed) {
            throw new DwcpException(ErrorCode.ILLEGAL_STATE, "scoped consensus is closed");
        }
        if (started) {
            return;
        }
        GroupSet.startAll(groups.values());
        if (homeMoves != null) {
            evaluator = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "dwcp-acp-home-moves");
                t.setDaemon(true);
                return t;
            });
            long period = evaluateInterval.toMillis();
            evaluator.scheduleAtFixedRate(this::evaluateHomes, period, period, TimeUnit.MILLISECONDS);
        }
        started = true;
    }

    /** One evaluation of the locality rule: moves the homes of keys used mostly from this region here. */
    private void evaluateHomes() {
        for (String key : homeMoves.evaluate()) {
            LOG.info("global key '{}' is used mostly from region '{}': moving its home here", key, localRegion);
            CompletableFuture<Void> move;
            try {
                move = global.moveHome(key, localRegion);
            } catch (RuntimeException e) {
                // e.g. the key's initial home names no configured region: log it and keep evaluating the others
                LOG.warn("moving the home of global key '{}' to region '{}' failed", key, localRegion, e);
                continue;
            }
            move.whenComplete((v, e) -> {
                if (e != null) {
                    LOG.warn("moving the home of global key '{}' to region '{}' failed; a later evaluation may retry", key,
                            localRegion, e);
                } else {
                    homeMoves.moved(key);
                }
            });
        }
    }

    /** {@return the regions, in the order they were configured} */
    public Set<String> regions() {
        return groups.keySet();
    }

    /**
     * The REGIONAL scope: the Raft group of one region.
     *
     * @param region a configured region
     * @return its group
     * @throws IllegalArgumentException for an unknown region
     */
    public Consensus region(String region) {
        RatisConsensus c = groups.get(region);
        if (c == null) {
            throw new IllegalArgumentException("unknown region '" + region + "'; configured: " + groups.keySet());
        }
        return c;
    }

    /**
     * The LOCAL scope: the group of this node's region.
     *
     * @return the group of {@link Builder#localRegion(String)}
     * @throws IllegalStateException when no local region was configured
     */
    public Consensus local() {
        if (localRegion == null) {
            throw new IllegalStateException("no local region configured (Builder.localRegion)");
        }
        return region(localRegion);
    }

    /**
     * The EVENTUAL operations (counters, last-writer-wins registers): on the sync component's store when the builder
     * was given one ({@link Builder#eventualStore}), else ordered through {@link #local()} — stronger than declared,
     * never weaker.
     *
     * @return the operations
     * @throws IllegalStateException when there is neither a store nor a local region
     */
    public EventualOps eventual() {
        return eventualStore != null ? EventualOps.over(eventualStore) : EventualOps.over(local());
    }

    /**
     * The GLOBAL scope by home-region ownership (see the class comment).
     *
     * @return a linearizable register map whose keys are ordered by their home regions' groups
     */
    public Consensus global() {
        return global;
    }

    /**
     * The region whose group orders a global key now (a linearizable look-up).
     *
     * @param key the global key
     * @return its home region
     */
    public CompletableFuture<String> home(String key) {
        return global.home(key);
    }

    /**
     * Moves a global key's home by a committed hand-off: the old home commits a fence carrying the value, then the new
     * home installs it. Operations on the key in flight during the move are linearizable; those reaching the old home
     * after the fence follow it. A no-op when {@code region} is already the home.
     *
     * @param key the global key
     * @param region the new home region
     * @return completes when {@code region} is the key's home
     * @throws IllegalArgumentException for an unknown region
     */
    public CompletableFuture<Void> moveHome(String key, String region) {
        region(region);
        return global.moveHome(key, region);
    }

    /** Stops every regional group started here, in reverse order; idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (evaluator != null) {
            evaluator.shutdownNow(); // a move in flight is a sequence of commits: stopping between them loses nothing
            evaluator = null;
        }
        GroupSet.stopAll(groups.values());
    }

    /** Builds a {@link ScopedConsensus}; not thread-safe. */
    public static final class Builder {
        private final DwcpConfig config;
        private final Map<String, String> regions = new LinkedHashMap<>();
        private String localRegion;
        private Function<String, String> initialHome;
        private MeterRegistry registry = new SimpleMeterRegistry();
        private MetadataStore eventualStore;

        private Builder(DwcpConfig config) {
            this.config = config;
        }

        /**
         * Adds a region and the voters of its group.
         *
         * @param name 1–64 chars {@code [A-Za-z0-9._-]}, distinct
         * @param peers {@code id@host:port,...}, as {@code dwcp.consensus.peers}
         * @return this builder
         * @throws IllegalArgumentException for a bad or repeated name
         */
        public Builder region(String name, String peers) {
            if (name == null || !REGION.matcher(name).matches()) {
                throw new IllegalArgumentException("region name '" + name + "' must be 1-64 chars [A-Za-z0-9._-]");
            }
            if (regions.putIfAbsent(name, Objects.requireNonNull(peers, "peers")) != null) {
                throw new IllegalArgumentException("region '" + name + "' given twice");
            }
            return this;
        }

        /**
         * This node's region, the one {@link #local()} returns.
         *
         * @param name a region added with {@link #region}
         * @return this builder
         */
        public Builder localRegion(String name) {
            this.localRegion = Objects.requireNonNull(name, "name");
            return this;
        }

        /**
         * The home of a global key that was never moved; must give every client the same answer (default: the first
         * region added).
         *
         * @param home key to region
         * @return this builder
         */
        public Builder initialHome(Function<String, String> home) {
            this.initialHome = Objects.requireNonNull(home, "home");
            return this;
        }

        /**
         * The store EVENTUAL operations go to ({@link #eventual()}): the sync component's, e.g.
         * {@code manager.sync().metadata()} when the manager has one (default: none, they go through the local scope).
         *
         * @param store the replicated store
         * @return this builder
         */
        public Builder eventualStore(MetadataStore store) {
            this.eventualStore = Objects.requireNonNull(store, "store");
            return this;
        }

        /**
         * Where the regional groups' meters go (default: a private registry).
         *
         * @param registry the registry
         * @return this builder
         */
        public Builder meterRegistry(MeterRegistry registry) {
            this.registry = Objects.requireNonNull(registry, "registry");
            return this;
        }

        /**
         * Builds the scoped consensus (not started).
         *
         * @return the instance
         * @throws IllegalArgumentException when no region was added or the local region is not one of them
         */
        public ScopedConsensus build() {
            if (regions.isEmpty()) {
                throw new IllegalArgumentException("add at least one region");
            }
            if (localRegion != null && !regions.containsKey(localRegion)) {
                throw new IllegalArgumentException("local region '" + localRegion + "' is not one of " + regions.keySet());
            }
            return new ScopedConsensus(this);
        }
    }
}
