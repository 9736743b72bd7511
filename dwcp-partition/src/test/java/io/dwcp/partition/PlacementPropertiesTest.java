package io.dwcp.partition;

import io.dwcp.core.DwcpException;
import io.dwcp.core.ErrorCode;
import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.config.PartitionKeys;
import io.dwcp.core.placement.PlacementModel;
import io.dwcp.core.placement.PlacementPlan;
import io.dwcp.core.placement.Site;
import io.dwcp.core.placement.Traffic;
import io.dwcp.core.placement.Vm;
import io.dwcp.core.spi.ComponentContext;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.statistics.Statistics;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Laws of the placer on random models with pins and anti-affinity: every plan it returns breaks no hard constraint,
 * and whatever it refuses is refused as INFEASIBLE; a plan is a function of model and seed.
 */
class PlacementPropertiesTest {
    private static final long GIB = 1L << 30;

    static PlacementModel randomModel(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        PlacementModel.Builder b = PlacementModel.builder();
        int sites = 2 + r.nextInt(5);
        int vms = 5 + r.nextInt(60);
        for (int s = 0; s < sites; s++) {
            b.site(new Site("s" + s, 10 + r.nextInt(40), (16L + r.nextInt(200)) * GIB));
        }
        for (int v = 0; v < vms; v++) {
            Vm vm = Vm.of("v" + v, 1 + r.nextInt(4), (1L + r.nextInt(8)) * GIB, (1L + r.nextInt(8)) * GIB);
            if (r.nextInt(10) == 0) {
                vm = vm.pinnedTo("s" + r.nextInt(sites));
            }
            if (r.nextInt(12) == 0) {
                vm = vm.inAntiAffinityGroup("g" + r.nextInt(4));
            }
            b.vm(vm);
        }
        for (int e = 0; e < vms * 2; e++) {
            int a = r.nextInt(vms);
            int c = r.nextInt(vms);
            if (a != c) {
                b.traffic(new Traffic("v" + a, "v" + c, Math.pow(10, 3 + 4 * r.nextDouble())));
            }
        }
        return b.build();
    }

    @Property(tries = 60)
    void everyPlanHonoursTheHardConstraintsOrIsInfeasible(@ForAll long seed, @ForAll @IntRange(min = 0, max = 2) int strategy) {
        PlacementModel model = randomModel(seed);
        DwcpConfig config = DwcpConfig.builder()
                .set(PartitionKeys.STRATEGY, new String[] {"hierarchical", "graph-cut", "greedy"}[strategy]).build();
        ItpPlacer placer = (ItpPlacer) new ItpPlacementProvider().create(
                ComponentContext.standalone(config, new SimpleMeterRegistry(), 1));
        placer.start();
        try {
            PlacementPlan plan = placer.place(model);
            PlacementEngine e = new PlacementEngine(model);
            int[] site = new int[e.n];
            for (int v = 0; v < e.n; v++) {
                site[v] = e.siteIndex.get(plan.placement().get(e.vms[v].id()));
            }
            assertNull(e.violation(site));
            assertEquals(plan, placer.place(model), "same model and seed, same plan");
            assertTrue(plan.crossSiteShare() >= 0 && plan.crossSiteShare() <= 1);
            Statistics.collect("planned");
        } catch (DwcpException ex) {
            assertEquals(ErrorCode.INFEASIBLE, ex.code(), ex.getMessage());
            Statistics.collect("infeasible");
        } finally {
            placer.stop();
        }
        // Not vacuous: most random models must be placed, not refused.
        Statistics.coverage(c -> c.check("planned").percentage(p -> p > 30));
    }
}
