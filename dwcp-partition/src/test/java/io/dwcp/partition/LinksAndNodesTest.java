package io.dwcp.partition;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.Health;
import io.dwcp.core.placement.Node;
import io.dwcp.core.placement.PlacementModel;
import io.dwcp.core.placement.PlacementPlan;
import io.dwcp.core.placement.Site;
import io.dwcp.core.placement.SiteLink;
import io.dwcp.core.placement.Traffic;
import io.dwcp.core.placement.Vm;
import io.dwcp.core.spi.BandwidthPredictor;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.Forecast;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The cost matrix from links and the predictor's forecasts, and node placement inside sites. */
class LinksAndNodesTest {
    private static final long GIB = 1L << 30;

    /** A standalone context with {@code predictor} beside it ({@code null}: none). */
    static ComponentContext context(BandwidthPredictor predictor) {
        return new DelegatingContext() {
            @Override
            public Optional<BandwidthPredictor> predictor() {
                return Optional.ofNullable(predictor);
            }
        };
    }

    static BandwidthPredictor slowPeer(double bitsPerSecond) {
        Forecast known = new Forecast(true, bitsPerSecond, bitsPerSecond * 0.9, bitsPerSecond * 1.1, 0.95, 100,
                Duration.ofMinutes(5), Instant.EPOCH, "test");
        Forecast unknown = Forecast.unknown(Duration.ofMinutes(5), 0);
        return new BandwidthPredictor() {
            @Override
            public Forecast forecast(String peer) {
                return peer.equals("slow") ? known : unknown;
            }

            @Override
            public Forecast shortForecast(String peer) {
                return forecast(peer);
            }

            @Override
            public Forecast advice(String peer) {
                return forecast(peer);
            }

            @Override
            public Duration horizon() {
                return Duration.ofMinutes(5);
            }

            @Override
            public boolean enabled() {
                return true;
            }

            @Override
            public String name() {
                return "test-predictor";
            }

            @Override
            public void start() {
            }

            @Override
            public void stop() {
            }

            @Override
            public Health health() {
                return Health.healthy("test");
            }
        };
    }

    private static PlacementPlan place(BandwidthPredictor predictor, PlacementModel model) {
        ItpPlacer p = (ItpPlacer) new ItpPlacementProvider().create(context(predictor));
        p.start();
        try {
            return p.place(model);
        } finally {
            p.stop();
        }
    }

    /** Two one-VM sites; x sends to y. The forecast makes a -> b slow: traffic on it costs more than on b -> a. */
    @Test
    void theForecastOfALinkEntersTheCostMatrix() {
        PlacementModel model = PlacementModel.builder()
                .site(new Site("a", 1, 4 * GIB)).site(new Site("b", 1, 4 * GIB))
                .vm(Vm.of("x", 1, GIB, GIB)).vm(Vm.of("y", 1, GIB, GIB))
                .traffic(new Traffic("x", "y", 1e6))
                .link(new SiteLink("a", "b", Duration.ofMillis(20), 1e9, 0.05, "slow"))
                .link(new SiteLink("b", "a", Duration.ofMillis(20), 1e9, 0.05, "fast"))
                .build();
        PlacementPlan withForecast = place(slowPeer(0.5e9), model);
        // Mean bandwidth 0.75e9: a -> b at 0.5e9 costs 1.5 per byte, b -> a at 1e9 costs 0.75.
        double expected = withForecast.placement().get("x").equals("a") ? 1.5e6 : 0.75e6;
        assertEquals(expected, withForecast.costWeightedCrossSite(), 1);
        assertEquals(1e6, withForecast.crossSiteBytesPerSecond(), 1);
        // Without a predictor both directions cost 1.
        assertEquals(1e6, place(null, model).costWeightedCrossSite(), 1);
    }

    /** One site with two nodes of 4 cores: two talking pairs of 2-core VMs, one pair per node. */
    @Test
    void vmsOfASiteGoToItsNodesKeepingTalkingVmsTogetherWithinCapacities() {
        PlacementModel.Builder b = PlacementModel.builder().site(new Site("a", 8, 64 * GIB))
                .node(new Node("n1", "a", 4, 32 * GIB)).node(new Node("n2", "a", 4, 32 * GIB));
        for (String v : new String[] {"p1", "p2", "q1", "q2"}) {
            b.vm(Vm.of(v, 2, 8 * GIB, 8 * GIB));
        }
        b.traffic(new Traffic("p1", "p2", 1e7)).traffic(new Traffic("q1", "q2", 1e7))
                .traffic(new Traffic("p1", "q1", 1e3)).traffic(new Traffic("p2", "q2", 1e3));
        PlacementPlan plan = place(null, b.build());
        Map<String, String> nodes = plan.nodePlacement();
        assertEquals(4, nodes.size());
        assertEquals(nodes.get("p1"), nodes.get("p2"));
        assertEquals(nodes.get("q1"), nodes.get("q2"));
        assertNotEquals(nodes.get("p1"), nodes.get("q1"));
    }

    /** Many VMs, nodes of unequal size: every node within its CPU and memory; a site without nodes gets none. */
    @Test
    void nodeCapacitiesHoldOnALargerSite() {
        PlacementModel.Builder b = PlacementModel.builder().site(new Site("a", 100, 400 * GIB)).site(new Site("z", 100, 400 * GIB));
        int[] cores = {40, 30, 20, 10};
        for (int i = 0; i < cores.length; i++) {
            b.node(new Node("n" + i, "a", cores[i], cores[i] * 4L * GIB));
        }
        java.util.SplittableRandom r = new java.util.SplittableRandom(5);
        for (int v = 0; v < 60; v++) {
            b.vm(Vm.of("vm" + v, 1 + r.nextInt(2), (1 + r.nextInt(4)) * GIB, GIB).pinnedTo(v < 50 ? "a" : "z"));
            if (v > 0) {
                b.traffic(new Traffic("vm" + v, "vm" + r.nextInt(v), 1e5 * (1 + r.nextInt(100))));
            }
        }
        PlacementModel model = b.build();
        PlacementPlan plan = place(null, model);
        Map<String, double[]> load = new java.util.HashMap<>();
        for (Map.Entry<String, String> e : plan.nodePlacement().entrySet()) {
            Vm vm = model.vms().stream().filter(x -> x.id().equals(e.getKey())).findFirst().orElseThrow();
            assertEquals("a", plan.placement().get(vm.id()));
            double[] l = load.computeIfAbsent(e.getValue(), x -> new double[2]);
            l[0] += vm.cpuCores();
            l[1] += vm.memoryBytes();
        }
        assertEquals(50, plan.nodePlacement().size());
        for (Node n : model.nodes()) {
            double[] l = load.getOrDefault(n.id(), new double[2]);
            assertTrue(l[0] <= n.cpuCores() && l[1] <= n.memoryBytes(), n.id() + " over: " + l[0] + " cores, " + l[1] + " bytes");
        }
    }

    @Test
    void vmsThatDoNotFitTheNodesOfTheirSiteAreInfeasible() {
        PlacementModel model = PlacementModel.builder().site(new Site("a", 8, 64 * GIB))
                .node(new Node("n1", "a", 3, 32 * GIB)).node(new Node("n2", "a", 3, 32 * GIB))
                .vm(Vm.of("v1", 2, GIB, GIB)).vm(Vm.of("v2", 2, GIB, GIB)).vm(Vm.of("v3", 2, GIB, GIB))
                .build();
        DwcpException e = assertThrows(DwcpException.class, () -> place(null, model));
        assertEquals(ErrorCode.INFEASIBLE, e.code());
        assertTrue(e.getMessage().contains("site a") && e.getMessage().contains("node"), e.getMessage());
    }
}
