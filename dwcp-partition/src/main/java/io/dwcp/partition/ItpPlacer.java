package io.dwcp.partition;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.config.PartitionKeys;
import io.dwcp.core.placement.Move;
import io.dwcp.core.placement.PlacementModel;
import io.dwcp.core.placement.PlacementPlan;
import io.dwcp.core.placement.SiteLink;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.ForecastAdvisor;
import io.dwcp.core.Health;
import io.dwcp.core.spi.Placer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/*
 * The ITP placer component. Stateless between calls apart from meters and the last outcome for
 * health; calls run on the caller's thread and may run concurrently (each builds its own engine).
 *
 * Rebalancing rule: with current placement C (every VM placed), observed cross-site share S(C) = cross-site bytes/s ÷
 * all bytes/s. If S(C) ≤ rebalance-threshold, the CPU imbalance ≤ max-imbalance and C breaks no hard constraint →
 * BELOW_THRESHOLD. Otherwise a new placement P is planned with the move cost in the objective (anchor edges, see
 * PlacementEngine). If P moves more than max-moves VMs, the moves of highest individual value (horizon × the
 * cost-weighted traffic the VM saves against P − its moving cost) are kept, dropping more while the
 * result breaks a hard constraint. Then BudgetedMoves spends the plan's saving over the horizon on further single-VM
 * moves, cheapest saving per moved byte first, while the whole plan still repays itself. The plan is adopted when saved = horizon × (T(C) − T(P)) > cost = move-cost-factor ×
 * Σ bytes moved × the cost of a byte on the link each crosses (the cost matrix, as for traffic) + the saving that waits for the transfers (MoveTime: each moved VM's transfer time at the forecast
 * bandwidth × the traffic its move saves; 0 for a model without links), where T is cost-weighted cross-site traffic
 * in bytes/s — or when C itself breaks a hard constraint; otherwise NOT_WORTH_IT and C stays.
 */
final class ItpPlacer implements Placer {
    private static final Logger LOG = LoggerFactory.getLogger(ItpPlacer.class);
    /** Move-cost scales of the rebalancing candidates: the full cost first (the fallback), then cheaper anchors. */
    private static final double[] ANCHOR_SCALES = {1, 0.5, 0.25};

    private final ComponentContext context;
    private final Object lock = new Object();
    /** Guarded by lock. */
    private boolean running;
    /** Guarded by lock. */
    private final List<Meter> meters = new ArrayList<>();
    private Timer planDuration;
    private final Map<String, Counter> rebalances = new HashMap<>();
    private Counter movesPlanned;
    private DistributionSummary bytesToMove;
    private final AtomicLong observedRatioBits = new AtomicLong(Double.doubleToLongBits(Double.NaN));
    private final AtomicLong plannedRatioBits = new AtomicLong(Double.doubleToLongBits(Double.NaN));
    private final AtomicLong imbalanceBits = new AtomicLong(Double.doubleToLongBits(Double.NaN));
    private final AtomicLong cutTrafficBits = new AtomicLong(Double.doubleToLongBits(Double.NaN));
    private volatile String lastInfeasible;
    private final AtomicLong plans = new AtomicLong();

    ItpPlacer(ComponentContext context) {
        this.context = context;
    }

    @Override
    public String name() {
        return "placement";
    }

    @Override
    public void start() {
        synchronized (lock) {
            if (running) {
                return;
            }
            MeterRegistry r = context.meterRegistry();
            meters.add(Gauge.builder("dwcp.itp.cross.region.ratio", observedRatioBits, b -> Double.longBitsToDouble(b.get()))
                    .tag("kind", "observed").description("Cross-site share of traffic in the last current placement").register(r));
            meters.add(Gauge.builder("dwcp.itp.cross.region.ratio", plannedRatioBits, b -> Double.longBitsToDouble(b.get()))
                    .tag("kind", "planned").description("Cross-site share of traffic in the last plan").register(r));
            meters.add(Gauge.builder("dwcp.itp.imbalance", imbalanceBits, b -> Double.longBitsToDouble(b.get()))
                    .description("CPU load-imbalance factor of the last plan (max utilisation ÷ mean − 1)").register(r));
            meters.add(Gauge.builder("dwcp.itp.cut.traffic", cutTrafficBits, b -> Double.longBitsToDouble(b.get()))
                    .baseUnit("bytes").description("Predicted cross-site traffic of the last plan, bytes per second").register(r));
            planDuration = Timer.builder("dwcp.itp.plan.duration").description("Time to compute a plan").register(r);
            meters.add(planDuration);
            for (String outcome : List.of("applied", "below-threshold", "not-worth-it", "infeasible")) {
                Counter c = Counter.builder("dwcp.itp.rebalances").tag("outcome", outcome).description("Rebalance decisions").register(r);
                rebalances.put(outcome, c);
                meters.add(c);
            }
            movesPlanned = Counter.builder("dwcp.itp.moves").tag("kind", "planned").description("Migrations planned").register(r);
            meters.add(movesPlanned);
            bytesToMove = DistributionSummary.builder("dwcp.itp.bytes.to.move").baseUnit("bytes")
                    .description("State bytes the moves of a plan transfer").register(r);
            meters.add(bytesToMove);
            running = true;
            LOG.info("ITP placer started (strategy {})", context.config().get(PartitionKeys.STRATEGY));
        }
    }

    @Override
    public void stop() {
        synchronized (lock) {
            if (!running) {
                return;
            }
            running = false;
            for (Meter m : meters) {
                context.meterRegistry().remove(m);
            }
            meters.clear();
            rebalances.clear();
        }
    }

    @Override
    public Health health() {
        synchronized (lock) {
            if (!running) {
                return Health.unknown("placer not running");
            }
        }
        String infeasible = lastInfeasible;
        if (infeasible != null) {
            return Health.degraded("last plan infeasible: " + infeasible);
        }
        return Health.healthy(plans.get() + " plan(s) computed");
    }

    private void requireRunning() {
        synchronized (lock) {
            if (!running) {
                throw new DwcpException(ErrorCode.ILLEGAL_STATE, "the placer is not running (start the DwcpManager)");
            }
        }
    }

    private PlacementEngine.Settings settings() {
        DwcpConfig c = context.config();
        return new PlacementEngine.Settings(c.get(PartitionKeys.STRATEGY), c.get(PartitionKeys.MAX_IMBALANCE),
                c.get(PartitionKeys.SEED), c.get(PartitionKeys.REFINEMENT_PASSES), 4);
    }

    @Override
    public PlacementPlan place(PlacementModel model) {
        requireRunning();
        model = MetadataPlacement.complete(model, context.vmMetadata()); // current sites recorded by migrations
        long t0 = System.nanoTime();
        PlacementEngine e = new PlacementEngine(withLinkCosts(model));
        int[] current = e.current();
        try {
            int[] site = e.place(settings(), null, null);
            List<Move> moves = MoveOrder.order(e, current, site);
            return plan(e, site, moves, PlacementPlan.Outcome.APPLIED);
        } catch (DwcpException ex) {
            if (ex.code() == ErrorCode.INFEASIBLE) {
                lastInfeasible = ex.getMessage();
            }
            throw ex;
        } finally {
            planDuration.record(System.nanoTime() - t0, java.util.concurrent.TimeUnit.NANOSECONDS);
        }
    }

    @Override
    public PlacementPlan rebalance(PlacementModel model) {
        requireRunning();
        model = MetadataPlacement.complete(model, context.vmMetadata()); // current sites recorded by migrations
        long t0 = System.nanoTime();
        PlacementEngine e = new PlacementEngine(withLinkCosts(model));
        int[] current = e.current();
        for (int v = 0; v < e.n; v++) {
            if (current[v] < 0) {
                throw new IllegalArgumentException("rebalance needs the current site of every VM; VM '" + e.vms[v].id()
                        + "' has none (use place for new VMs)");
            }
        }
        DwcpConfig c = context.config();
        try {
            double observed = e.totalTraffic == 0 ? 0 : Math.min(1, e.crossTraffic(current, false) / e.totalTraffic);
            observedRatioBits.set(Double.doubleToLongBits(observed));
            String broken = e.violation(current);
            if (broken == null && observed <= c.get(PartitionKeys.REBALANCE_THRESHOLD)
                    && e.imbalance(current) <= c.get(PartitionKeys.MAX_IMBALANCE)) {
                count("below-threshold");
                return plan(e, current, List.of(), PlacementPlan.Outcome.BELOW_THRESHOLD);
            }
            double horizonSeconds = c.get(PartitionKeys.PLANNING_HORIZON).toMillis() / 1000.0;
            double factor = c.get(PartitionKeys.MOVE_COST_FACTOR);
            MoveTime time = MoveTime.of(e, ForecastAdvisor.of(context)::advice);
            int[] target = null;
            double waiting = 0;
            double saved = 0;
            double moving = 0;
            for (double scale : ANCHOR_SCALES) {
                int[] t = candidate(e, current, scale, horizonSeconds, factor, time);
                double s = horizonSeconds * (e.crossTraffic(current, true) - e.crossTraffic(t, true));
                double m = e.movingCost(current, t, factor);
                double w = time.waitingCost(e, current, t);
                // The first (full move cost) plan is the fallback; a cheaper-anchored one replaces it only when it
                // breaks no constraint, repays itself within the horizon and saves more.
                if (target == null || (e.violation(t) == null && s > m + w && s > saved)) {
                    target = t;
                    saved = s;
                    moving = m;
                    waiting = w;
                }
            }
            if (broken == null && !(saved > moving + waiting)) {
                count("not-worth-it");
                LOG.debug("rebalance not worth it: saves {} cost-weighted bytes over the horizon, moving costs {}"
                        + " (state bytes × {} × link cost), {} saved bytes wait for the transfers", saved, moving,
                        factor, waiting);
                return plan(e, current, List.of(), PlacementPlan.Outcome.NOT_WORTH_IT);
            }
            List<Move> moves = MoveOrder.order(e, current, target);
            count("applied");
            return plan(e, target, moves, PlacementPlan.Outcome.APPLIED);
        } catch (DwcpException ex) {
            if (ex.code() == ErrorCode.INFEASIBLE) {
                count("infeasible");
                lastInfeasible = ex.getMessage();
            }
            throw ex;
        } finally {
            planDuration.record(System.nanoTime() - t0, java.util.concurrent.TimeUnit.NANOSECONDS);
        }
    }

    /**
     * One rebalancing candidate: the anchored partition with the move cost scaled by {@code scale} (below 1 it plans
     * moves that repay only after the horizon, the Lagrangian relaxation of the adoption rule), at most max-moves
     * moves, then — when it breaks no constraint — the moves that do not repay undone (scale below 1) and the plan's
     * saving spent on the next-cheapest savings (BudgetedMoves). Every step counts the moves' transfer times.
     */
    private int[] candidate(PlacementEngine e, int[] current, double scale, double horizonSeconds, double factor,
                            MoveTime time) {
        DwcpConfig c = context.config();
        int[] t = e.place(settings(), current, time.anchors(e, current, scale, factor, horizonSeconds));
        t = limitMoves(e, current, t, c.get(PartitionKeys.MAX_MOVES), horizonSeconds, factor, time);
        if (e.violation(t) == null) {
            if (scale < 1 || time.known()) {
                BudgetedMoves.trim(e, current, t, horizonSeconds, factor, time, c.get(PartitionKeys.MAX_IMBALANCE));
            }
            BudgetedMoves.extend(e, current, t, horizonSeconds, factor, time, c.get(PartitionKeys.MAX_MOVES),
                    c.get(PartitionKeys.MAX_IMBALANCE));
        }
        return t;
    }

    /**
     * The model with the cost matrix derived from its links when it has links but no matrix: the bandwidth of a link
     * is the predictor's forecast for its peer when that is advice (a predictor runs, is enabled and confident),
     * else the link's nominal bandwidth.
     */
    private PlacementModel withLinkCosts(PlacementModel model) {
        if (model.costs().isPresent() || model.links().isEmpty()) {
            return model;
        }
        ForecastAdvisor advisor = ForecastAdvisor.of(context);
        List<String> siteIds = model.sites().stream().map(io.dwcp.core.placement.Site::id).toList();
        return model.withCosts(SiteLink.costs(siteIds, model.links(), advisor::advice));
    }

    private void count(String outcome) {
        Counter counter = rebalances.get(outcome);
        if (counter != null) {
            counter.increment();
        }
    }

    /** Keeps at most {@code maxMoves} moves, the most valuable first, dropping more while a hard constraint breaks. */
    static int[] limitMoves(PlacementEngine e, int[] current, int[] target, int maxMoves, double horizonSeconds,
                            double factor, MoveTime time) {
        List<Integer> moved = new ArrayList<>();
        for (int v = 0; v < e.n; v++) {
            if (target[v] != current[v]) {
                moved.add(v);
            }
        }
        if (moved.size() <= maxMoves) {
            return target;
        }
        double[] value = new double[e.n];
        for (int v : moved) {
            double here = 0;
            double there = 0;
            for (int x = e.xadj[v]; x < e.xadj[v + 1]; x++) {
                int su = target[e.adj[x]];
                here += e.out[x] * e.cost[current[v]][su] + e.in[x] * e.cost[su][current[v]];
                there += e.out[x] * e.cost[target[v]][su] + e.in[x] * e.cost[su][target[v]];
            }
            value[v] = horizonSeconds * (here - there)
                    - factor * e.vms[v].stateBytes() * e.moveByteCost(current[v], target[v])
                    - time.waiting(e, current, target, v);
        }
        moved.sort((a, b) -> value[a] != value[b] ? Double.compare(value[b], value[a]) : Integer.compare(a, b));
        List<Integer> keep = new ArrayList<>(moved.subList(0, maxMoves));
        while (true) {
            int[] trimmed = current.clone();
            for (int v : keep) {
                trimmed[v] = target[v];
            }
            if (keep.isEmpty() || e.violation(trimmed) == null) {
                return trimmed;
            }
            keep.remove(keep.size() - 1);
        }
    }

    private PlacementPlan plan(PlacementEngine e, int[] site, List<Move> moves, PlacementPlan.Outcome outcome) {
        Map<String, String> placement = new LinkedHashMap<>();
        for (int v = 0; v < e.n; v++) {
            placement.put(e.vms[v].id(), e.sites[site[v]].id());
        }
        double cross = e.n == 0 ? 0 : e.crossTraffic(site, false);
        double weighted = e.n == 0 ? 0 : e.crossTraffic(site, true);
        // The two sums add the same rates in different orders: keep rounding from pushing the share past 1.
        double share = e.totalTraffic == 0 ? 0 : Math.min(1, cross / e.totalTraffic);
        double imbalance = e.n == 0 ? 0 : e.imbalance(site);
        Map<String, String> nodes = e.model.nodes().isEmpty() ? Map.of()
                : NodePlacer.place(e, site, context.config().get(PartitionKeys.SEED), context.config().get(PartitionKeys.MAX_IMBALANCE));
        PlacementPlan plan = new PlacementPlan(placement, cross, weighted, share, imbalance, moves, outcome, nodes);
        lastInfeasible = null;
        plans.incrementAndGet();
        plannedRatioBits.set(Double.doubleToLongBits(share));
        imbalanceBits.set(Double.doubleToLongBits(imbalance));
        cutTrafficBits.set(Double.doubleToLongBits(cross));
        movesPlanned.increment(moves.size());
        bytesToMove.record(plan.bytesToMove());
        return plan;
    }

    @Override
    public String toString() {
        return "ItpPlacer" + Arrays.asList(context.config().get(PartitionKeys.STRATEGY));
    }
}
