package io.dwcp.consensus;

import io.dwcp.core.config.ConsensusKeys;
import io.dwcp.core.config.DwcpConfig;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.ratis.protocol.RaftPeer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.DoubleSupplier;

/*
 * The automatic choice of a SwitchingConsensus: every evaluate-interval it reads the layout in force and its write
 * counts per origin region (SwitchingConsensus.status), turns them into the window just ended, probes this node's RTT to
 * every layout's voters, asks LayoutChoice, and switches when the choice says so (the fence also checks
 * switch.min-interval in the log). Meters: dwcp.acp.locality, dwcp.acp.conflict.rate.
 *
 * Threading: one daemon thread (dwcp-acp-layout-choice) from start() until close(); the window state is that
 * thread's alone.
 */
final class LayoutEvaluator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LayoutEvaluator.class);
    /** Upper bound of all RTT probes of one evaluation. */
    private static final Duration PROBE_BUDGET = Duration.ofSeconds(2);

    private final SwitchingConsensus scope;
    private final DwcpConfig config;
    private final LayoutChoice choice;
    private final Map<String, String> peerLists;
    private final Map<String, LayoutChoice.Layout> layouts;
    private final BiFunction<String, Long, Optional<Duration>> rttProbe;
    /** The share of this node's last window's writes issued while another one on the same key was in flight. */
    private final DoubleSupplier conflictWindow;
    private volatile double locality;
    private volatile double conflictRate;
    private Map<String, Long> lastCounts = Map.of();
    private long lastCountsEpoch = -1;
    private ScheduledExecutorService scheduler;

    LayoutEvaluator(SwitchingConsensus scope, DwcpConfig config, LayoutChoice choice, Map<String, String> peerLists,
                    Map<String, LayoutChoice.Layout> layouts, BiFunction<String, Long, Optional<Duration>> rttProbe,
                    DoubleSupplier conflictWindow, MeterRegistry registry, Consumer<Meter> registered) {
        this.scope = scope;
        this.config = config;
        this.choice = choice;
        this.peerLists = Map.copyOf(peerLists);
        this.layouts = Map.copyOf(layouts);
        this.rttProbe = rttProbe;
        this.conflictWindow = conflictWindow;
        registered.accept(Gauge.builder("dwcp.acp.locality", this, x -> x.locality).description("Share of the last window's"
                + " writes from the busiest region").register(registry));
        registered.accept(Gauge.builder("dwcp.acp.conflict.rate", this, x -> x.conflictRate).description("Share of the last"
                + " window's proposals on a key with another of this node's proposals in flight").register(registry));
    }

    synchronized void start() {
        if (scheduler != null) {
            return;
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "dwcp-acp-layout-choice");
            t.setDaemon(true);
            return t;
        });
        long period = config.get(ConsensusKeys.EVALUATE_INTERVAL).toMillis();
        scheduler.scheduleWithFixedDelay(this::evaluate, period, period, TimeUnit.MILLISECONDS);
    }

    @Override
    public synchronized void close() {
        if (scheduler != null) {
            scheduler.shutdownNow(); // a switch stopped between its commits is completed by the next client
            scheduler = null;
        }
    }

    /** One evaluation of the choice rule. */
    private void evaluate() {
        long drain = config.get(ConsensusKeys.SWITCH_DRAIN_TIMEOUT).toMillis();
        try {
            SwitchingConsensus.Status s = scope.status().get(drain, TimeUnit.MILLISECONDS);
            Map<String, Long> window = new HashMap<>();
            for (Map.Entry<String, Long> e : s.writesPerOrigin().entrySet()) {
                long before = s.epoch() == lastCountsEpoch ? lastCounts.getOrDefault(e.getKey(), 0L) : 0L;
                if (e.getValue() > before && !e.getKey().isEmpty()) {
                    window.put(e.getKey(), e.getValue() - before);
                }
            }
            lastCounts = s.writesPerOrigin();
            lastCountsEpoch = s.epoch();
            conflictRate = conflictWindow.getAsDouble();
            LayoutChoice.Decision d = choice.evaluate(s.layout(), window, measureRtts(), System.currentTimeMillis(),
                    s.lastSwitchMillis());
            locality = d.locality();
            if (d.switchTo().isEmpty()) {
                if (!d.skipped().isEmpty()) {
                    scope.skipped(d.skipped());
                }
                return;
            }
            LOG.info("layout '{}' chosen ({}; writes per region {}): switching from '{}'", d.chosen(), d.rule(), window,
                    s.layout());
            scope.switchTo(d.chosen(), config.get(ConsensusKeys.SWITCH_MIN_INTERVAL).toMillis())
                    .get(drain * 2, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            // A group without quorum or a refused switch: the next evaluation decides again.
            LOG.warn("layout evaluation failed; the next one decides again: {}", e.toString());
        }
    }

    /** This node's RTT to each region: the least over that region's voters, one probe per distinct address. */
    private Map<String, Duration> measureRtts() {
        Map<String, Duration> rtt = new HashMap<>();
        long deadline = System.nanoTime() + PROBE_BUDGET.toNanos();
        Set<String> seen = new HashSet<>();
        for (Map.Entry<String, String> g : peerLists.entrySet()) {
            List<RaftPeer> peers = GroupLayout.parse(g.getKey(), g.getValue()).peers();
            List<String> regions = layouts.get(g.getKey()).voterRegions();
            for (int i = 0; i < peers.size(); i++) {
                String address = peers.get(i).getAddress();
                if (seen.add(address)) {
                    String region = regions.get(i);
                    rttProbe.apply(address, deadline).ifPresent(x -> rtt.merge(region, x, (a, b) -> a.compareTo(b) <= 0 ? a : b));
                }
            }
        }
        return rtt;
    }
}
