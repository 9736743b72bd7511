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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
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
    private static final Logger LOG = LoggerFactory.getLogger(SwitchingConsensus.class);
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    /** Layout changes one operation follows before it gives up (retryably). */
    static final int MAX_HOPS = 32;

    private final Map<String, RatisConsensus> groups;
    private final String initial;
    private final String origin;
    private final DwcpConfig config;
    private final UUID clientId = UUID.randomUUID();
    private final AtomicLong sequence = new AtomicLong();
    /** The layout and epoch this client last found current; a hint, corrected by FENCED replies. */
    private volatile Position position;
    private final AtomicBoolean switching = new AtomicBoolean();
    private final Map<String, Integer> inFlight = new ConcurrentHashMap<>();
    private final AtomicLong proposals = new AtomicLong();
    private final AtomicLong conflicts = new AtomicLong();
    private final AtomicLong fencedRetries = new AtomicLong();
    private final MeterRegistry registry;
    /** Every meter this scope registered (its groups remove their own at stop); removed at close. */
    private final List<Meter> meters = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Counter switches;
    private final Timer switchDuration;
    /** The automatic choice, when switch.auto is on and this node has a region; else null. */
    private final LayoutEvaluator evaluator;
    private boolean started;
    private boolean closed;

    /** Where the scope is (or was last seen): a layout serving an epoch; {@code from} is the fenced layout it came from. */
    private record Position(String layout, long epoch, String from, long fromEpoch) {
        Position(String layout, long epoch) {
            this(layout, epoch, null, -1);
        }
    }

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
        this.config = b.config;
        this.registry = b.registry;
        Map<String, RatisConsensus> g = new LinkedHashMap<>();
        Map<String, LayoutChoice.Layout> l = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : b.peers.entrySet()) {
            DwcpConfig c = b.config.toBuilder().set(ConsensusKeys.GROUP, e.getKey()).set("dwcp.consensus.peers", e.getValue()).build();
            g.put(e.getKey(), new RatisConsensus(ComponentContext.standalone(c, b.registry, 2)));
            l.put(e.getKey(), new LayoutChoice.Layout(e.getKey(), b.regions.get(e.getKey())));
        }
        this.groups = Collections.unmodifiableMap(g);
        this.initial = b.initial != null ? b.initial : b.peers.keySet().iterator().next();
        this.origin = b.localRegion == null ? "" : b.localRegion;
        this.position = new Position(initial, 0);
        LayoutChoice.Settings s = new LayoutChoice.Settings(config.get(ConsensusKeys.LOW_LATENCY),
                config.get(ConsensusKeys.MAX_REGIONS_SINGLE_GROUP), config.get(ConsensusKeys.LOCALITY_THRESHOLD),
                config.get(ConsensusKeys.SWITCH_STABLE_EVALUATIONS), config.get(ConsensusKeys.SWITCH_MIN_INTERVAL),
                config.get(ConsensusKeys.SWITCH_BENEFIT_MARGIN), config.get(ConsensusKeys.EVALUATE_INTERVAL));
        this.evaluator = b.localRegion != null && config.get(ConsensusKeys.SWITCH_AUTO)
                ? new LayoutEvaluator(this, config, new LayoutChoice(s, List.copyOf(l.values()), b.localRegion), b.peers, l,
                        b.rttProbe, this::conflictWindow, registry, meters::add)
                : null;
        this.switches = Counter.builder("dwcp.acp.switches").description("Layout switches this node made").register(registry);
        this.switchDuration = Timer.builder("dwcp.acp.switch.duration").description("From fence proposal to seed commit")
                .register(registry);
        meters.add(switches);
        meters.add(switchDuration);
        for (String name : groups.keySet()) {
            meters.add(Gauge.builder("dwcp.acp.algorithm", this, x -> x.position.layout().equals(name) ? 1 : 0).tag("layout", name)
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
        RatisConsensus g = groups.get(position.layout());
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
        return fencedRetries.get();
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
        Function<Long, Command> at = epoch -> new Command(type, clientId.getMostSignificantBits(),
                clientId.getLeastSignificantBits(), seq, key, expected, value, new Command.Guard(epoch, origin));
        CompletableFuture<Reply> reply = attempt(at, position, 0);
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

    /** Sends the command for {@code at}'s epoch to its layout, following fences (see the class comment). */
    private CompletableFuture<Reply> attempt(Function<Long, Command> command, Position at, int hops) {
        if (hops > MAX_HOPS) {
            return CompletableFuture.failedFuture(new DwcpException(ErrorCode.QUORUM_UNAVAILABLE, "the layout changed more"
                    + " than " + MAX_HOPS + " times during one operation; it did not take effect here, retry"));
        }
        return group(at.layout()).send(command.apply(at.epoch())).thenCompose(reply -> {
            if (reply.status() != Reply.Status.FENCED) {
                position = new Position(at.layout(), at.epoch());
                return CompletableFuture.completedFuture(reply);
            }
            fencedRetries.incrementAndGet();
            return next(at, reply.error()).thenCompose(p -> attempt(command, p, hops + 1));
        });
    }

    /** Where to go after {@code at}'s group answered FENCED with {@code epoch|layout}. */
    private CompletableFuture<Position> next(Position at, String fenced) {
        int bar = fenced.indexOf('|');
        long epoch = Long.parseLong(fenced.substring(0, bar));
        String to = fenced.substring(bar + 1);
        if (epoch >= at.epoch() && !to.isEmpty()) {
            group(to);
            return CompletableFuture.completedFuture(new Position(to, epoch + 1, at.layout(), epoch));
        }
        if (epoch > at.epoch()) {
            return CompletableFuture.completedFuture(new Position(at.layout(), epoch)); // serves a later epoch unfenced
        }
        // Below at.epoch (not seeded for it yet; a fence it holds is an older one): complete the switch that led here,
        // or start again from the initial layout.
        if (at.from() != null) {
            return complete(at.from(), at.fromEpoch(), at.layout())
                    .thenApply(done -> done ? new Position(at.layout(), at.epoch()) : new Position(initial, 0));
        }
        return CompletableFuture.completedFuture(new Position(initial, 0));
    }

    /**
     * Completes a switch from {@code from} (fenced at {@code epoch}) to {@code to}: reads the handed-over state with
     * the same fence (answered again by a fenced group) and seeds {@code to} at {@code epoch + 1}.
     *
     * @return true when {@code to} serves {@code epoch + 1} or later; false when {@code from} no longer holds that
     *         fence (the scope moved on: start again from the initial layout)
     */
    private CompletableFuture<Boolean> complete(String from, long epoch, String to) {
        return group(from).send(fence(to, epoch, 0)).thenCompose(f -> {
            if (f.status() != Reply.Status.OK) {
                return CompletableFuture.completedFuture(false);
            }
            return seed(from, epoch, to, f.current().value()).thenApply(x -> true);
        });
    }

    private CompletableFuture<Void> seed(String from, long epoch, String to, String state) {
        Command seed = new Command(Command.Type.SEED, clientId.getMostSignificantBits(), clientId.getLeastSignificantBits(),
                0, from, Long.toString(epoch + 1), state);
        return group(to).send(seed).thenApply(s -> {
            if (s.status() != Reply.Status.OK) {
                throw new DwcpException(ErrorCode.PROTOCOL_ERROR, "layout '" + to + "' refused the state fenced in '" + from
                        + "' at epoch " + epoch + ": " + s.status() + " " + s.error());
            }
            return null;
        });
    }

    private Command fence(String to, long epoch, long minIntervalMillis) {
        long maxState = config.get(ConsensusKeys.MAX_COMMAND).bytes() - 1024; // room for the seed command's header
        return new Command(Command.Type.FENCE, clientId.getMostSignificantBits(), clientId.getLeastSignificantBits(), 0,
                to, Long.toString(epoch), System.currentTimeMillis() + "/" + minIntervalMillis + "/" + Math.max(0, maxState));
    }

    /**
     * Finds the layout in force (completing a switch left half-done on the way) and what it counted.
     *
     * @return its status
     */
    public CompletableFuture<Status> status() {
        return locate(position, 0);
    }

    private CompletableFuture<Status> locate(Position at, int hops) {
        if (hops > MAX_HOPS) {
            return CompletableFuture.failedFuture(new DwcpException(ErrorCode.QUORUM_UNAVAILABLE, "the layout changed more"
                    + " than " + MAX_HOPS + " times while it was looked up; retry"));
        }
        Command read = new Command(Command.Type.READ, clientId.getMostSignificantBits(), clientId.getLeastSignificantBits(),
                0, LayoutState.LAYOUT_KEY, null, null);
        return group(at.layout()).send(read).thenCompose(r -> {
            String[] f = r.current().value().split("\\|", -1);
            long epoch = Long.parseLong(f[0]);
            if (!f[1].isEmpty()) {
                return complete(at.layout(), epoch, f[1]).thenCompose(done -> locate(done
                        ? new Position(f[1], epoch + 1) : new Position(initial, 0), hops + 1));
            }
            if (epoch == 0 && !at.layout().equals(initial)) {
                return locate(new Position(initial, 0), hops + 1); // never seeded: not the scope's layout
            }
            Map<String, Long> counts = new HashMap<>();
            if (!f[3].isEmpty()) {
                for (String kv : f[3].split(",")) {
                    int eq = kv.lastIndexOf('=');
                    counts.put(kv.substring(0, eq), Long.parseLong(kv.substring(eq + 1)));
                }
            }
            position = new Position(at.layout(), epoch);
            return CompletableFuture.completedFuture(new Status(at.layout(), epoch, Long.parseLong(f[2]), counts));
        });
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

    CompletableFuture<Void> switchTo(String layout, long minIntervalMillis) {
        group(layout);
        if (!switching.compareAndSet(false, true)) {
            return CompletableFuture.failedFuture(new DwcpException(ErrorCode.ILLEGAL_STATE, "a layout switch is in progress"
                    + " on this node; request another once it completed"));
        }
        long t0 = System.nanoTime();
        CompletableFuture<Void> done = doSwitch(layout, minIntervalMillis, 0)
                .orTimeout(config.get(ConsensusKeys.SWITCH_DRAIN_TIMEOUT).toMillis(), TimeUnit.MILLISECONDS);
        return done.whenComplete((v, e) -> {
            switching.set(false);
            if (e == null) {
                switchDuration.record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
            }
        });
    }

    private CompletableFuture<Void> doSwitch(String to, long minIntervalMillis, int hops) {
        return locate(position, hops).thenCompose(s -> {
            if (s.layout().equals(to)) {
                return CompletableFuture.completedFuture((Void) null);
            }
            return group(s.layout()).send(fence(to, s.epoch(), minIntervalMillis)).thenCompose(f -> switch (f.status()) {
                case OK -> seed(s.layout(), s.epoch(), to, f.current().value()).thenApply(x -> {
                    position = new Position(to, s.epoch() + 1);
                    switches.increment();
                    LOG.info("scope switched from layout '{}' (epoch {}) to '{}' (epoch {})", s.layout(), s.epoch(), to,
                            s.epoch() + 1);
                    return (Void) null;
                });
                case FENCED -> doSwitch(to, minIntervalMillis, hops + 1); // someone else switched meanwhile: look again
                case REFUSED -> {
                    skipped(f.error().startsWith("too soon") ? "min-interval" : "too-large");
                    yield CompletableFuture.failedFuture(new DwcpException(ErrorCode.ILLEGAL_STATE, "layout '" + s.layout()
                            + "' refused the switch to '" + to + "': " + f.error()));
                }
                default -> CompletableFuture.failedFuture(new DwcpException(ErrorCode.PROTOCOL_ERROR, "layout '"
                        + s.layout() + "' answered a fence with " + f.status() + " " + f.error()));
            });
        });
    }

    void skipped(String reason) {
        Counter c = Counter.builder("dwcp.acp.switch.skipped").tag("reason", reason).description("Layout switches not made")
                .register(registry);
        if (!meters.contains(c)) {
            meters.add(c);
        }
        c.increment();
    }

    private RatisConsensus group(String layout) {
        RatisConsensus g = groups.get(layout);
        if (g == null) {
            throw new IllegalArgumentException("unknown layout '" + layout + "'; configured: " + groups.keySet());
        }
        return g;
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
