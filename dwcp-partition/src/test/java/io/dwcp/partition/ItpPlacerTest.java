package io.dwcp.partition;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.config.PartitionKeys;
import io.dwcp.core.placement.Move;
import io.dwcp.core.placement.PlacementModel;
import io.dwcp.core.placement.PlacementPlan;
import io.dwcp.core.placement.Site;
import io.dwcp.core.placement.SiteCosts;
import io.dwcp.core.placement.Traffic;
import io.dwcp.core.placement.Vm;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.Health;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ItpPlacerTest {
    private static final long GIB = 1L << 30;
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private ItpPlacer placer;

    private ItpPlacer placer(DwcpConfig config) {
        placer = (ItpPlacer) new ItpPlacementProvider().create(ComponentContext.standalone(config, registry, 1));
        placer.start();
        return placer;
    }

    private ItpPlacer placer() {
        return placer(DwcpConfig.defaults());
    }

    @AfterEach
    void stop() {
        if (placer != null) {
            placer.stop();
        }
    }

    /** {@code clusters} clusters of {@code size} VMs, heavy traffic inside a cluster, a trickle between neighbours. */
    static PlacementModel.Builder clustered(int clusters, int size, int sites, double cpuPerSite) {
        PlacementModel.Builder b = PlacementModel.builder();
        for (int s = 0; s < sites; s++) {
            b.site(new Site("s" + s, cpuPerSite, 1024 * GIB));
        }
        for (int c = 0; c < clusters; c++) {
            for (int i = 0; i < size; i++) {
                b.vm(Vm.of("c" + c + "v" + i, 1, GIB, GIB));
                if (i > 0) {
                    b.traffic(new Traffic("c" + c + "v" + i, "c" + c + "v" + (i - 1), 1e6));
                    b.traffic(new Traffic("c" + c + "v" + (i - 1), "c" + c + "v" + i, 1e6));
                }
            }
            if (c > 0) {
                b.traffic(new Traffic("c" + c + "v0", "c" + (c - 1) + "v0", 1e3));
            }
        }
        return b;
    }

    @Test
    void keepsEachClusterOnOneSite() {
        PlacementPlan plan = placer().place(clustered(4, 10, 4, 12).build());
        for (int c = 0; c < 4; c++) {
            Set<String> used = new HashSet<>();
            for (int i = 0; i < 10; i++) {
                used.add(plan.placement().get("c" + c + "v" + i));
            }
            assertEquals(1, used.size(), "cluster " + c + " spread over " + used);
        }
        assertTrue(plan.crossSiteShare() < 0.001, "share " + plan.crossSiteShare());
        assertEquals(PlacementPlan.Outcome.APPLIED, plan.outcome());
        assertEquals(List.of(), plan.moves());
        assertEquals(Health.Status.HEALTHY, placer.health().status());
    }

    @Test
    void strategiesAllHonourCapacities() {
        for (String strategy : List.of("hierarchical", "graph-cut", "greedy")) {
            ItpPlacer p = placer(DwcpConfig.builder().set(PartitionKeys.STRATEGY, strategy).build());
            PlacementPlan plan = p.place(clustered(5, 7, 3, 12).build());
            Map<String, Integer> load = new HashMap<>();
            plan.placement().values().forEach(s -> load.merge(s, 1, Integer::sum));
            load.values().forEach(l -> assertTrue(l <= 12, strategy + ": " + load));
            assertEquals(35, plan.placement().size());
            p.stop();
        }
    }

    @Test
    void honoursPinsAndAntiAffinity() {
        PlacementModel.Builder b = clustered(2, 6, 3, 10);
        b.vm(Vm.of("db0", 1, GIB, GIB).pinnedTo("s2").inAntiAffinityGroup("db"));
        b.vm(Vm.of("db1", 1, GIB, GIB).inAntiAffinityGroup("db"));
        b.vm(Vm.of("db2", 1, GIB, GIB).inAntiAffinityGroup("db"));
        b.traffic(new Traffic("db1", "db2", 1e9)).traffic(new Traffic("db2", "db1", 1e9));
        PlacementPlan plan = placer().place(b.build());
        assertEquals("s2", plan.placement().get("db0"));
        Set<String> dbSites = Set.of(plan.placement().get("db0"), plan.placement().get("db1"), plan.placement().get("db2"));
        assertEquals(3, dbSites.size(), "anti-affinity broken: " + plan.placement());
    }

    @Test
    void usesTheCostMatrix() {
        // Three sites of room 2; a pair talks heavily, a third VM is pinned to s0 and the pair's second member must go
        // elsewhere: s1 is cheap to reach from s0, s2 dear.
        PlacementModel.Builder b = PlacementModel.builder()
                .site(new Site("s0", 2, 8 * GIB)).site(new Site("s1", 2, 8 * GIB)).site(new Site("s2", 2, 8 * GIB))
                .vm(Vm.of("a", 1, GIB, GIB).pinnedTo("s0")).vm(Vm.of("p", 1, GIB, GIB).pinnedTo("s0"))
                .vm(Vm.of("q", 1, GIB, GIB))
                .traffic(new Traffic("p", "q", 1e6))
                .costs(SiteCosts.of(List.of("s0", "s1", "s2"), new double[][] {{0, 1, 10}, {1, 0, 10}, {10, 10, 0}}));
        PlacementPlan plan = placer().place(b.build());
        assertEquals("s1", plan.placement().get("q"));
        assertEquals(1e6, plan.costWeightedCrossSite(), 1e-6);
    }

    @Test
    void reportsInfeasibleCapacityNamingTheResource() {
        PlacementModel m = clustered(2, 10, 2, 8).build();
        DwcpException e = assertThrows(DwcpException.class, () -> placer().place(m));
        assertEquals(ErrorCode.INFEASIBLE, e.code());
        assertEquals("INFEASIBLE: cpu: the VMs need 20.00 cores, all sites together hold 16.00", e.getMessage());
        assertEquals(Health.Status.DEGRADED, placer.health().status());
    }

    @Test
    void reportsInfeasiblePinsAndAntiAffinity() {
        PlacementModel pins = PlacementModel.builder().site(new Site("a", 1, GIB)).site(new Site("b", 4, GIB))
                .vm(Vm.of("x", 1, 1, 0).pinnedTo("a")).vm(Vm.of("y", 1, 1, 0).pinnedTo("a")).build();
        assertTrue(assertThrows(DwcpException.class, () -> placer().place(pins)).getMessage()
                .startsWith("INFEASIBLE: site a: VMs pinned to it need 2.00 cores, it holds 1.00"));
        PlacementModel group = PlacementModel.builder().site(new Site("a", 4, GIB)).site(new Site("b", 4, GIB))
                .vm(Vm.of("x", 1, 1, 0).inAntiAffinityGroup("g")).vm(Vm.of("y", 1, 1, 0).inAntiAffinityGroup("g"))
                .vm(Vm.of("z", 1, 1, 0).inAntiAffinityGroup("g")).build();
        assertEquals("INFEASIBLE: anti-affinity group g has 3 VMs for 2 sites",
                assertThrows(DwcpException.class, () -> placer.place(group)).getMessage());
        PlacementModel both = PlacementModel.builder().site(new Site("a", 4, GIB)).site(new Site("b", 4, GIB))
                .vm(Vm.of("x", 1, 1, 0).inAntiAffinityGroup("g").pinnedTo("a"))
                .vm(Vm.of("y", 1, 1, 0).inAntiAffinityGroup("g").pinnedTo("a")).build();
        assertEquals("INFEASIBLE: anti-affinity group g: VMs x and y are both pinned to site a",
                assertThrows(DwcpException.class, () -> placer.place(both)).getMessage());
    }

    @Test
    void badModelsAreRejectedNamingTheItem() {
        assertThrows(IllegalArgumentException.class, () -> Vm.of("v", Double.NaN, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new Traffic("a", "b", -1));
        assertEquals("duplicate VM id 'v'", assertThrows(IllegalArgumentException.class,
                () -> PlacementModel.builder().vm(Vm.of("v", 1, 1, 1)).vm(Vm.of("v", 1, 1, 1)).build()).getMessage());
        assertEquals("traffic v -> w names unknown VM 'w'", assertThrows(IllegalArgumentException.class,
                () -> PlacementModel.builder().vm(Vm.of("v", 1, 1, 1)).traffic(new Traffic("v", "w", 1)).build()).getMessage());
    }

    @Test
    void emptyModelGivesAnEmptyPlan() {
        PlacementPlan plan = placer().place(PlacementModel.builder().site(new Site("a", 1, 1)).build());
        assertTrue(plan.placement().isEmpty());
        assertEquals(0, plan.crossSiteShare());
    }

    @Test
    void sameModelAndSeedGiveTheSamePlan() {
        PlacementModel m = clustered(6, 9, 4, 16).build();
        assertEquals(placer().place(m), placer.place(m));
    }

    @Test
    void rebalanceStaysBelowThreshold() {
        PlacementModel.Builder b = clustered(2, 5, 2, 6);
        for (int c = 0; c < 2; c++) {
            for (int i = 0; i < 5; i++) {
                b.currentlyOn("c" + c + "v" + i, "s" + c);
            }
        }
        PlacementPlan plan = placer().rebalance(b.build());
        assertEquals(PlacementPlan.Outcome.BELOW_THRESHOLD, plan.outcome());
        assertEquals(List.of(), plan.moves());
        assertEquals(1.0, registry.get("dwcp.itp.rebalances").tag("outcome", "below-threshold").counter().count());
    }

    @Test
    void rebalanceMovesOnlyWhenTheSavingPaysForTheBytes() {
        // Two clusters of 5, each split 3 / 2 over the two sites: half the traffic crosses. Sites have room 6.
        PlacementModel.Builder b = clustered(2, 5, 2, 6);
        for (int c = 0; c < 2; c++) {
            for (int i = 0; i < 5; i++) {
                b.currentlyOn("c" + c + "v" + i, (i < 3) == (c == 0) ? "s0" : "s1");
            }
        }
        PlacementModel model = b.build();
        // 1e6 B/s over an hour (3.6e9 B per cut edge) against 1 GiB per move: worth it.
        PlacementPlan plan = placer().rebalance(model);
        assertEquals(PlacementPlan.Outcome.APPLIED, plan.outcome());
        assertTrue(plan.crossSiteShare() < 0.001, "share " + plan.crossSiteShare());
        assertTrue(plan.moves().size() <= 4, "moves " + plan.moves());
        placer.stop();
        // The same with moves 100 times dearer: not worth it.
        PlacementPlan dear = placer(DwcpConfig.builder().set(PartitionKeys.MOVE_COST_FACTOR, 100.0).build()).rebalance(model);
        assertEquals(PlacementPlan.Outcome.NOT_WORTH_IT, dear.outcome());
        assertEquals(List.of(), dear.moves());
        assertEquals(model.currentPlacement(), dear.placement());
    }

    @Test
    void rebalanceNeedsACurrentSiteForEveryVm() {
        PlacementModel m = clustered(1, 2, 2, 2).currentlyOn("c0v0", "s0").build();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> placer().rebalance(m)).getMessage()
                .contains("VM 'c0v1' has none"));
    }

    @Test
    void aSwapBetweenTwoFullSitesIsStagedThroughAThird() {
        PlacementModel m = PlacementModel.builder().site(new Site("a", 1, GIB)).site(new Site("b", 1, GIB))
                .site(new Site("c", 1, GIB)).vm(Vm.of("x", 1, 1, 1)).vm(Vm.of("y", 1, 1, 1)).build();
        PlacementEngine e = new PlacementEngine(m);
        List<Move> moves = MoveOrder.order(e, new int[] {0, 1}, new int[] {1, 0});
        assertEquals(3, moves.size(), moves.toString());
        assertSafe(e, new int[] {0, 1}, moves);
        PlacementModel two = PlacementModel.builder().site(new Site("a", 1, GIB)).site(new Site("b", 1, GIB))
                .vm(Vm.of("x", 1, 1, 1)).vm(Vm.of("y", 1, 1, 1)).build();
        DwcpException ex = assertThrows(DwcpException.class,
                () -> MoveOrder.order(new PlacementEngine(two), new int[] {0, 1}, new int[] {1, 0}));
        assertEquals(ErrorCode.INFEASIBLE, ex.code());
    }

    @net.jqwik.api.Property(tries = 50)
    void moveOrderNeverOverfillsASite(@net.jqwik.api.ForAll long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        PlacementModel.Builder b = PlacementModel.builder();
        int sites = 2 + r.nextInt(4);
        int vms = 5 + r.nextInt(30);
        for (int s = 0; s < sites; s++) {
            b.site(new Site("s" + s, 4 + r.nextInt(12), 64 * GIB));
        }
        for (int v = 0; v < vms; v++) {
            b.vm(Vm.of("v" + v, 1 + r.nextInt(3), (1 + r.nextInt(4)) * GIB, GIB));
        }
        PlacementEngine e = new PlacementEngine(b.build());
        int[] from = randomFeasible(e, r);
        int[] to = randomFeasible(e, r);
        if (from == null || to == null) {
            return;
        }
        try {
            assertSafe(e, from, MoveOrder.order(e, from, to));
        } catch (DwcpException ex) {
            assertEquals(ErrorCode.INFEASIBLE, ex.code());
        }
    }

    private static int[] randomFeasible(PlacementEngine e, SplittableRandom r) {
        for (int attempt = 0; attempt < 20; attempt++) {
            int[] site = new int[e.n];
            for (int v = 0; v < e.n; v++) {
                site[v] = r.nextInt(e.k);
            }
            if (e.violation(site) == null) {
                return site;
            }
        }
        return null;
    }

    /** Replays the moves from {@code from}: every step within capacity; the end is where the moves lead. */
    private static void assertSafe(PlacementEngine e, int[] from, List<Move> moves) {
        int[] cur = from.clone();
        for (Move m : moves) {
            int v = e.vmIndex.get(m.vm());
            assertEquals(e.sites[cur[v]].id(), m.fromSite());
            assertNotEquals(m.fromSite(), m.toSite());
            cur[v] = e.siteIndex.get(m.toSite());
            String broken = e.violation(cur);
            assertEquals(null, broken, "after " + m);
        }
    }
}
