package io.dwcp.consensus;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.Health;
import io.dwcp.core.config.ConsensusKeys;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.Consensus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * A linearizable register map (a {@link Consensus}) whose keys are ordered by one of several <em>layouts</em> — Raft
 * groups placed differently, e.g. one group per region and one group across sites — and which switches between them
 * without losing or repeating an operation.
 *
 * <p><b>Switching.</b> The scope has an epoch. A switch from layout {@code A} (epoch {@code e}) to {@code B} is an
 * <em>epoch fence</em> committed in {@code A}: from that log position on, {@code A} refuses every command on the
 * scope's keys, and the fence's reply carries {@code A}'s state at the fence — values and the client de-duplication
 * table. That state <em>seeds</em> {@code B} at epoch {@code e + 1} (a second commit, in {@code B}). Every operation
 * carries the epoch its client believes current and its (client id, sequence); a group that does not serve that epoch
 * answers where the scope went, and the client retries the same (client id, sequence) there. So an operation that
 * committed before the fence is answered from the carried de-duplication table (its original result, not applied
 * again), and one that reached {@code A} after the fence changed nothing there and is applied once in {@code B}. A
 * switch interrupted between fence and seed is completed by the next client that meets the fence (the fenced group
 * keeps the state it handed over). Versions keep growing across switches ({@code (epoch << 40) | log index}).
 *
 * <p><b>Choice</b> ({@code dwcp.consensus.switch.auto}, on by default): every {@code evaluate-interval} this node
 * measures its RTT to every layout's voters, reads how many writes each region committed in the current layout, and
 * chooses: a layout spanning at most {@code max-regions-single-group} regions whose voters are all within
 * {@code low-latency} (one Raft group); else, when one region issued at least {@code locality-threshold} of the
 * writes, that region's own group (home-region); else the layout with the least estimated commit latency for where
 * the writes come from. It switches only when the same choice held for {@code switch.stable-evaluations} evaluations,
 * {@code switch.min-interval} passed since the last switch (checked again by the fence, in the log, so two deciding
 * nodes cannot switch sooner either), and the latency saved until the next allowed switch beats
 * {@code switch.benefit-margin} × the switch's cost.
 *
 * <pre>{@code
 * SwitchingConsensus acp = SwitchingConsensus.builder(config)
 *         .layout("eu", "e1@10.0.0.1:9871,e2@10.0.0.2:9871,e3@10.0.0.3:9871", "eu")
 *         .layout("us", "u1@10.1.0.1:9871,u2@10.1.0.2:9871,u3@10.1.0.3:9871", "us")
 *         .initialLayout("eu").localRegion("eu").build();
 * acp.start();
 * acp.write("plan/current", "p-17").get();
 * acp.switchTo("us").get();   // or let the evaluations choose
 * }</pre>
 *
 * <p>Pitfalls: the layouts' groups must be used only through switching scopes with the same initial layout (a group
 * fenced by a switch refuses plain commands on its keys with {@code ILLEGAL_STATE}); keys under {@code acp/} are
 * reserved for the groups themselves.
 *
 * <p>Thread-safe. {@link #close()} stops the evaluations and every group client or replica it started; idempotent.
 */
public final class SwitchingConsensus implements Consensus, AutoCloseable {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    /** Layout changes one operation follows before it gives up (retryably). */
    static final int MAX_HOPS = 32;

    /*
     * Split by job: this class is the scope's lifecycle (start/close, guarded by this object's monitor: `started`,
     * `closed`), its meters, key validation and the conflict counts; EpochRouter is the epoch-fence protocol (where the
     * scope is, following fences, making and completing switches); LayoutEvaluator is the automatic choice.
     */
    private final Map<String, RatisConsensus> groups;
    private final String origin;
    private final AtomicLong sequence = new AtomicLong();
    private final EpochRouter router;
    /** Keys with a write or compare-and-set of this client in flight, and how many. */
    private final Map<String, Integer> inFlight = new ConcurrentHashMap<>();
    private final AtomicLong proposals = new AtomicLong();
    private final AtomicLong conflicts = new AtomicLong();
    private final MeterRegistry registry;
    /** Every meter this scope registered (its groups remove their own at stop); removed at close. */
    private final List<Meter> meters = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** The automatic choice, when switch.auto is on and this node has a region; else null. */
    private final LayoutEvaluator evaluator;
    /** Guarded by this. */
    private boolean started;
    /** Guarded by this. */
    private boolean closed;

    /**
     * Where the scope stands, as the layout in force answered.
     *
     * @param layout the layout in force
     * @param epoch the scope's epoch (0 in the initial layout until the first switch)
     * @param lastSwitchMillis the clock of the node that proposed the last switch (0: none yet)
     * @param writesPerOrigin writes and compare-and-sets committed in this epoch, per region of the client
     */
    public record Status(String layout, long epoch, long lastSwitchMillis, Map<String, Long> writesPerOrigin) {
        /**
         * Copies the counts.
         *
         * @param layout the layout in force
         * @param epoch the scope's epoch
         * @param lastSwitchMillis the clock of the node that proposed the last switch (0: none yet)
         * @param writesPerOrigin writes and compare-and-sets committed in this epoch, per region of the client
         */
        public Status {
            writesPerOrigin = Map.copyOf(writesPerOrigin);
        }
    }

    private SwitchingConsensus(Builder b) {
        DwcpConfig config = b.config;
        this.registry = b.registry;
        Map<String, RatisConsensus> g = new LinkedHashMap<>();
        Map<String, LayoutChoice.Layout> l = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : b.peers.entrySet()) {
            DwcpConfig c = b.config.toBuilder().set(ConsensusKeys.GROUP, e.getKey()).set("dwcp.consensus.peers", e.getValue()).build();
            g.put(e.getKey(), new RatisConsensus(ComponentContext.standalone(c, b.registry, 2)));
            l.put(e.getKey(), new LayoutChoice.Layout(e.getKey(), b.regions.get(e.getKey())));
        }
        this.groups = Collections.unmodifiableMap(g);
        String initial = b.initial != null ? b.initial : b.peers.keySet().iterator().next();
        this.origin = b.localRegion == null ? "" : b.localRegion;
        LayoutChoice.Settings s = new LayoutChoice.Settings(config.get(ConsensusKeys.LOW_LATENCY),
                config.get(ConsensusKeys.MAX_REGIONS_SINGLE_GROUP), config.get(ConsensusKeys.LOCALITY_THRESHOLD),
                config.get(ConsensusKeys.SWITCH_STABLE_EVALUATIONS), config.get(ConsensusKeys.SWITCH_MIN_INTERVAL),
                config.get(ConsensusKeys.SWITCH_BENEFIT_MARGIN), config.get(ConsensusKeys.EVALUATE_INTERVAL));
        this.evaluator = b.localRegion != null && config.get(ConsensusKeys.SWITCH_AUTO)
                ? new LayoutEvaluator(this, config, new LayoutChoice(s, List.copyOf(l.values()), b.localRegion), b.peers, l,
                        b.rttProbe, this::conflictWindow, registry, meters::add)
                : null;
        Counter switches = Counter.builder("dwcp.acp.switches").description("Layout switches this node made").register(registry);
        Timer switchDuration = Timer.builder("dwcp.acp.switch.duration").description("From fence proposal to seed commit")
                .register(registry);
        meters.add(switches);
        meters.add(switchDuration);
        this.router = new EpochRouter(groups, initial, config, switches, switchDuration, this::skipped);
        for (String name : groups.keySet()) {
            meters.add(Gauge.builder("dwcp.acp.algorithm", this, x -> x.router.layoutHint().equals(name) ? 1 : 0).tag("layout", name)
                    .description("1 for the layout this node last found in force").register(registry));
        }
    }

    /**
     * A builder whose groups take their settings (timeouts, node id, storage directory) from {@code config}.
     *
     * @param config base configuration; {@code dwcp.consensus.group} and {@code peers} are set per layout
     * @return a builder
     */
    public static Builder builder(DwcpConfig config) {
        return new Builder(Objects.requireNonNull(config, "config"));
    }

    @Override
    public String name() {
        return "consensus-switching";
    }

    /**
     * Starts a client of every layout's group (and this node's replica in a group that lists its node id), and the
     * evaluations when automatic switching is on.
     *
     * @throws IOException when a group cannot be started (those already started are stopped again)
     */
    @Override
    public synchronized void start() throws IOException {
        if (closed) {
            throw new DwcpException(ErrorCode.ILLEGAL_STATE, "switching consensus is closed");
        }
        if (started) {
            return;
        }
        GroupSet.startAll(groups.values());
        if (evaluator != null) {
            evaluator.start();
        }
        started = true;
    }

    @Override
    public synchronized void stop() {
        close();
    }

    /** Stops the evaluations and every group started here, in reverse order; idempotent. */
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (evaluator != null) {
            evaluator.close();
        }
        meters.forEach(registry::remove);
        meters.clear();
        GroupSet.stopAll(groups.values());
    }

    @Override
    public Health health() {
        RatisConsensus g = groups.get(router.layoutHint());
        return g.health();
    }

    /** {@return the layouts, in the order they were configured} */
    public Set<String> layouts() {
        return groups.keySet();
    }

    @Override
    public CompletableFuture<Versioned> read(String key) {
        return run(Command.Type.READ, 0, key, null, null, Reply::current);
    }

    @Override
    public CompletableFuture<Versioned> write(String key, String value) {
        Objects.requireNonNull(value, "value");
        return run(Command.Type.WRITE, sequence.incrementAndGet(), key, null, value, Reply::current);
    }

    @Override
    public CompletableFuture<CasResult> compareAndSet(String key, String expected, String newValue) {
        Objects.requireNonNull(newValue, "newValue");
        return run(Command.Type.CAS, sequence.incrementAndGet(), key, expected, newValue,
                r -> new CasResult(r.status() == Reply.Status.OK, r.current()));
    }

    /** Sends again a write under a sequence this client already used (see the compare-and-set of the same kind). */
    CompletableFuture<Versioned> write(String key, String value, long explicitSequence) {
        return run(Command.Type.WRITE, explicitSequence, key, null, value, Reply::current);
    }

    /** {@return how many times an operation of this client met a fence and was sent again elsewhere} */
    long fencedRetries() {
        return router.fencedRetries();
    }

    /**
     * Sends again a write or compare-and-set under a sequence this client already used (tests: a client whose reply
     * was lost retries across a switch); the state machine answers a remembered one with its original result.
     */
    CompletableFuture<CasResult> compareAndSet(String key, String expected, String newValue, long explicitSequence) {
        return run(Command.Type.CAS, explicitSequence, key, expected, newValue,
                r -> new CasResult(r.status() == Reply.Status.OK, r.current()));
    }

    /** {@return the last sequence this client used} */
    long lastSequence() {
        return sequence.get();
    }

    /** One operation: the command with this client's id and the given sequence, sent where the scope is. */
    private <T> CompletableFuture<T> run(Command.Type type, long seq, String key, String expected, String value,
                                         Function<Reply, T> map) {
        if (key == null || key.isEmpty() || LayoutState.reserved(key)) {
            throw new IllegalArgumentException("key must be a non-empty string outside '" + LayoutState.RESERVED_PREFIX
                    + "', got '" + key + "'");
        }
        boolean tracked = type != Command.Type.READ;
        if (tracked) {
            proposals.incrementAndGet();
            if (inFlight.merge(key, 1, Integer::sum) > 1) {
                conflicts.incrementAndGet();
            }
        }
        CompletableFuture<Reply> reply = router.send(type, seq, key, expected, value, origin);
        if (tracked) {
            reply.whenComplete((r, e) -> inFlight.computeIfPresent(key, (k, n) -> n == 1 ? null : n - 1));
        }
        return reply.thenApply(r -> {
            if (r.status() == Reply.Status.MALFORMED) {
                throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "malformed command, nothing applied: " + r.error());
            }
            return map.apply(r);
        });
    }

    /**
     * Finds the layout in force (completing a switch left half-done on the way) and what it counted.
     *
     * @return its status
     */
    public CompletableFuture<Status> status() {
        return router.status();
    }

    /**
     * Switches the scope to {@code layout} now (an operator's request: no minimum interval). A no-op when it is in
     * force already.
     *
     * @param layout a configured layout
     * @return completes when {@code layout} serves the scope
     * @throws IllegalArgumentException for an unknown layout
     * @throws DwcpException {@code ILLEGAL_STATE} (in the future) when this node is already switching
     */
    public CompletableFuture<Void> switchTo(String layout) {
        return switchTo(layout, 0);
    }

    /** The share of this node's writes since the last call issued while another on the same key was in flight. */
    private double conflictWindow() {
        long p = proposals.getAndSet(0);
        long c = conflicts.getAndSet(0);
        return p == 0 ? 0 : (double) c / p;
    }

    /** Switches with the fence checking {@code minIntervalMillis} since the last switch (the automatic choice). */
    CompletableFuture<Void> switchTo(String layout, long minIntervalMillis) {
        return router.switchTo(layout, minIntervalMillis);
    }

    void skipped(String reason) {
        Counter c = Counter.builder("dwcp.acp.switch.skipped").tag("reason", reason).description("Layout switches not made")
                .register(registry);
        if (!meters.contains(c)) {
            meters.add(c);
        }
        c.increment();
    }

    /** Builds a {@link SwitchingConsensus}; not thread-safe. */
    public static final class Builder {
        private final DwcpConfig config;
        private final Map<String, String> peers = new LinkedHashMap<>();
        private final Map<String, List<String>> regions = new HashMap<>();
        private String initial;
        private String localRegion;
        private MeterRegistry registry = new SimpleMeterRegistry();
        private java.util.function.BiFunction<String, Long, Optional<Duration>> rttProbe = RaftTimers::probe;

        private Builder(DwcpConfig config) {
            this.config = config;
        }

        /**
         * Adds a layout: a Raft group, its voters and their regions.
         *
         * @param name 1–64 chars {@code [A-Za-z0-9._-]}, distinct; also the group's name
         * @param peerList the voters, {@code id@host:port,...}
         * @param voterRegions the region of each voter in order, or one region for all of them
         * @return this builder
         * @throws IllegalArgumentException for a bad or repeated name, or a region count that matches neither 1 nor the
         *         number of voters
         */
        public Builder layout(String name, String peerList, String... voterRegions) {
            if (name == null || !NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("layout name '" + name + "' must be 1-64 chars [A-Za-z0-9._-]");
            }
            int voters = GroupLayout.parse(name, Objects.requireNonNull(peerList, "peerList")).peers().size();
            if (voterRegions.length != 1 && voterRegions.length != voters) {
                throw new IllegalArgumentException("layout '" + name + "': give one region, or one per voter (" + voters
                        + "), not " + voterRegions.length);
            }
            for (String r : voterRegions) {
                if (r == null || !NAME.matcher(r).matches()) {
                    throw new IllegalArgumentException("region name '" + r + "' must be 1-64 chars [A-Za-z0-9._-]");
                }
            }
            if (peers.putIfAbsent(name, peerList) != null) {
                throw new IllegalArgumentException("layout '" + name + "' given twice");
            }
            List<String> r = new ArrayList<>();
            for (int i = 0; i < voters; i++) {
                r.add(voterRegions.length == 1 ? voterRegions[0] : voterRegions[i]);
            }
            regions.put(name, r);
            return this;
        }

        /**
         * The layout the scope starts in (epoch 0); every client of the scope must name the same (default: the first
         * layout added).
         *
         * @param name a layout added with {@link #layout}
         * @return this builder
         */
        public Builder initialLayout(String name) {
            this.initial = Objects.requireNonNull(name, "name");
            return this;
        }

        /**
         * This node's region: its writes are counted for it, and it takes part in the automatic choice (without a
         * region the node only follows switches).
         *
         * @param region a region name
         * @return this builder
         */
        public Builder localRegion(String region) {
            if (region == null || !NAME.matcher(region).matches()) {
                throw new IllegalArgumentException("region name '" + region + "' must be 1-64 chars [A-Za-z0-9._-]");
            }
            this.localRegion = region;
            return this;
        }

        /**
         * Where the groups' and the switches' meters go (default: a private registry).
         *
         * @param registry the registry
         * @return this builder
         */
        public Builder meterRegistry(MeterRegistry registry) {
            this.registry = Objects.requireNonNull(registry, "registry");
            return this;
        }

        /** Replaces the RTT probe (tests: distances on one host); arguments: {@code host:port}, deadline (nanoTime). */
        Builder rttProbe(java.util.function.BiFunction<String, Long, Optional<Duration>> probe) {
            this.rttProbe = Objects.requireNonNull(probe, "probe");
            return this;
        }

        /**
         * Builds the scope (not started).
         *
         * @return the instance
         * @throws IllegalArgumentException when no layout was added or the initial layout is not one of them
         */
        public SwitchingConsensus build() {
            if (peers.isEmpty()) {
                throw new IllegalArgumentException("add at least one layout");
            }
            if (initial != null && !peers.containsKey(initial)) {
                throw new IllegalArgumentException("initial layout '" + initial + "' is not one of " + peers.keySet());
            }
            return new SwitchingConsensus(this);
        }
    }
}
