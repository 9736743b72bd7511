package io.dwcp.bench;

import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.config.PartitionKeys;
import io.dwcp.core.placement.PlacementModel;
import io.dwcp.core.placement.PlacementPlan;
import io.dwcp.core.placement.Site;
import io.dwcp.core.placement.SiteCosts;
import io.dwcp.core.placement.SiteLink;
import io.dwcp.core.placement.Traffic;
import io.dwcp.core.placement.Vm;
import io.dwcp.core.spi.ComponentContext;
import io.dwcp.core.spi.Placer;
import io.dwcp.partition.ItpPlacementProvider;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * {@code dwcp bench-place [--vms 10000] [--sites 8] [--seeds 1,2,3,4,5] [--shift 0.2] [--links] [--json]}: the placer on a
 * generated multi-site model (SYNTHETIC data: clustered traffic, heterogeneous site capacities), against the greedy
 * strategy and hash placement, then a traffic shift and a rebalance against a plan from scratch.
 *
 * <p>Model per seed: VMs in clusters of 5–40; each VM sends to 2 random members of its cluster at a log-uniform 10^5–10^7
 * B/s, and with probability 0.1 to a random VM anywhere at 10^3–10^5 B/s; 1–8 cores, 2–64 GiB memory, state bytes =
 * memory; sites with random capacity weights 1–4 holding together 1.25 × the demand. Hash placement = VM id hash mod
 * sites, ignoring capacities (its overfill is reported). Shift: a fraction {@code --shift} of the clusters have half
 * their members rewired to talk to another cluster. Rebalance: from the hierarchical plan of the old traffic, with the
 * new traffic, {@code max-moves} 10000, {@code rebalance-threshold} 0 (so that it always plans and the plan is
 * measured; the adoption rule still decides), {@code planning-horizon} from {@code --horizon-hours} (default 1, the library's
 * default) and otherwise default settings. Reported per seed and as medians: cross-site
 * share of each strategy, the reductions vs greedy and hash, the saving a rebalance recovers vs a from-scratch plan
 * (both against the old placement under the new traffic) and the bytes it moves vs the from-scratch plan.
 *
 * <p>With {@code --links} the model also has a WAN link for every pair of sites (SYNTHETIC): sites at random points of
 * a 100 × 100 plane, RTT 2 ms + 1.5 ms per unit of distance, nominal bandwidth log-uniform 1–10 Gbit/s, price per GB
 * uniform 0.01–0.09, drawn from a random stream of their own (the VMs, sites and traffic are those of the model without
 * links). The placer then weighs cross-site traffic by the cost matrix derived from the links and charges every move its
 * transfer time; the cost-weighted figures ({@code costRecovered}, {@code costReductionVsGreedy}) are reported beside
 * the byte shares.
 */
final class BenchPlaceCommand implements DwcpCli.Command {
    @Override
    public String summary() {
        return "placer on a generated multi-site model (synthetic): vs greedy and hash, and rebalance after a traffic shift";
    }

    @Override
    public int run(String[] args) throws Exception {
        CliArgs a = new CliArgs(args, Set.of("vms", "sites", "seeds", "shift", "horizon-hours"), Set.of("json", "help", "links"));
        if (a.flag("help")) {
            System.err.println("usage: dwcp bench-place [--vms 10000] [--sites 8] [--seeds 1,2,3,4,5] [--shift 0.2] [--horizon-hours 1] [--links] [--json]");
            return 0;
        }
        int vms = Integer.parseInt(a.get("vms", "10000"));
        int sites = Integer.parseInt(a.get("sites", "8"));
        double shift = Double.parseDouble(a.get("shift", "0.2"));
        java.time.Duration horizon = java.time.Duration.ofSeconds(Math.round(3600 * Double.parseDouble(a.get("horizon-hours", "1"))));
        boolean links = a.flag("links");
        long[] seeds = Arrays.stream(a.get("seeds", "1,2,3,4,5").split(",")).mapToLong(Long::parseLong).toArray();
        List<Map<String, Object>> runs = new ArrayList<>();
        for (long seed : seeds) {
            runs.add(runOne(vms, sites, shift, horizon, seed, links));
            System.err.println("seed " + seed + ": " + runs.get(runs.size() - 1));
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("vms", vms);
        result.put("sites", sites);
        result.put("shift", shift);
        result.put("horizonHours", horizon.getSeconds() / 3600.0);
        result.put("seeds", seeds.length);
        result.put("links", links);
        List<String> keys = new ArrayList<>(List.of("shareHierarchical", "shareGreedy", "shareHash", "reductionVsGreedy", "reductionVsHash",
                "recovered", "bytesMovedRatio", "breakEvenHoursRebalance", "breakEvenHoursScratch", "planSeconds",
                "rebalanceSeconds"));
        if (links) {
            keys.addAll(List.of("costReductionVsGreedy", "costRecovered"));
        }
        for (String key : keys) {
            double[] v = runs.stream().mapToDouble(r -> ((Number) r.get(key)).doubleValue()).sorted().toArray();
            result.put(key, v[v.length / 2]);
            result.put(key + "Min", v[0]);
            result.put(key + "Max", v[v.length - 1]);
        }
        if (a.flag("json")) {
            System.out.println(Json.write(result));
        } else {
            result.forEach((k, v) -> System.out.println(k + " = " + v));
        }
        return 0;
    }

    private static Placer placer(DwcpConfig config) {
        Placer p = new ItpPlacementProvider().create(ComponentContext.standalone(config, new SimpleMeterRegistry(), 1));
        try {
            p.start();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return p;
    }

    static Map<String, Object> runOne(int n, int k, double shift, java.time.Duration horizon, long seed, boolean withLinks) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] cluster = new int[n];
        int clusters = 0;
        for (int v = 0; v < n; ) {
            int size = 5 + r.nextInt(36);
            for (int i = 0; i < size && v < n; i++) {
                cluster[v++] = clusters;
            }
            clusters++;
        }
        List<Vm> vmList = new ArrayList<>();
        double cpu = 0;
        long mem = 0;
        for (int v = 0; v < n; v++) {
            double c = 1 + r.nextInt(8);
            long m = (2L + r.nextInt(63)) << 30;
            vmList.add(Vm.of("vm" + v, c, m, m));
            cpu += c;
            mem += m;
        }
        double[] weight = new double[k];
        double wsum = 0;
        for (int s = 0; s < k; s++) {
            weight[s] = 1 + 3 * r.nextDouble();
            wsum += weight[s];
        }
        List<Site> siteList = new ArrayList<>();
        for (int s = 0; s < k; s++) {
            siteList.add(new Site("site" + s, Math.ceil(1.25 * cpu * weight[s] / wsum), (long) Math.ceil(1.25 * mem * weight[s] / wsum)));
        }
        int[] shifted = cluster.clone();
        SplittableRandom rs = new SplittableRandom(seed * 31 + 7);
        for (int c = 0; c < clusters; c++) {
            if (rs.nextDouble() < shift) {
                int other = rs.nextInt(clusters);
                boolean half = false;
                for (int v = 0; v < n; v++) {
                    if (cluster[v] == c) {
                        if (half) {
                            shifted[v] = other;
                        }
                        half = !half;
                    }
                }
            }
        }
        List<Traffic> before = traffic(cluster, new SplittableRandom(seed * 17 + 3));
        List<Traffic> after = traffic(shifted, new SplittableRandom(seed * 17 + 3));
        List<SiteLink> linkList = withLinks ? links(siteList, new SplittableRandom(seed * 13 + 5)) : List.of();

        PlacementModel model = model(vmList, siteList, before, Map.of(), linkList);
        Placer hierarchical = placer(DwcpConfig.defaults());
        Placer greedy = placer(DwcpConfig.builder().set(PartitionKeys.STRATEGY, "greedy").build());
        long t0 = System.nanoTime();
        PlacementPlan p0 = hierarchical.place(model);
        double planSeconds = (System.nanoTime() - t0) / 1e9;
        PlacementPlan pg = greedy.place(model);
        Map<String, String> hash = new HashMap<>();
        for (Vm vm : vmList) {
            hash.put(vm.id(), siteList.get(Math.floorMod(vm.id().hashCode(), k)).id());
        }
        double shareHash = share(before, hash);

        PlacementModel shiftedModel = model(vmList, siteList, after, p0.placement(), linkList);
        PlacementPlan scratch = hierarchical.place(shiftedModel);
        // Threshold 0: the rebalance always plans, so its plan is measured (the adoption rule still applies).
        Placer rebalancer = placer(DwcpConfig.builder().set(PartitionKeys.MAX_MOVES, 10000)
                .set(PartitionKeys.REBALANCE_THRESHOLD, 0.0).set(PartitionKeys.PLANNING_HORIZON, horizon).build());
        long t1 = System.nanoTime();
        PlacementPlan rebalanced = rebalancer.rebalance(shiftedModel);
        double rebalanceSeconds = (System.nanoTime() - t1) / 1e9;
        double oldShare = share(after, p0.placement());
        double scratchSaving = oldShare - scratch.crossSiteShare();
        double rebalanceSaving = oldShare - rebalanced.crossSiteShare();
        long scratchBytes = movedBytes(vmList, p0.placement(), scratch.placement());
        long rebalanceBytes = movedBytes(vmList, p0.placement(), rebalanced.placement());

        Map<String, Object> out = new LinkedHashMap<>();
        out.put("seed", seed);
        out.put("clusters", clusters);
        out.put("shareHierarchical", p0.crossSiteShare());
        out.put("shareGreedy", pg.crossSiteShare());
        out.put("shareHash", shareHash);
        out.put("hashOverfilledSites", overfilled(vmList, siteList, hash));
        out.put("reductionVsGreedy", 1 - p0.crossSiteShare() / pg.crossSiteShare());
        out.put("reductionVsHash", 1 - p0.crossSiteShare() / shareHash);
        out.put("imbalance", p0.imbalance());
        out.put("shareAfterShiftOld", oldShare);
        out.put("shareScratch", scratch.crossSiteShare());
        out.put("shareRebalanced", rebalanced.crossSiteShare());
        out.put("rebalanceOutcome", rebalanced.outcome().toString());
        out.put("rebalanceMoves", rebalanced.moves().size());
        out.put("recovered", scratchSaving <= 0 ? 1.0 : rebalanceSaving / scratchSaving);
        out.put("bytesMovedRatio", scratchBytes == 0 ? 0.0 : (double) rebalanceBytes / scratchBytes);
        // Absolute figures for the net saving over any window W: W × saved rate − moved bytes.
        double oldCross = cross(after, p0.placement());
        double savedRebalance = oldCross - cross(after, rebalanced.placement());
        double savedScratch = oldCross - cross(after, scratch.placement());
        out.put("savedBytesPerSecondRebalance", savedRebalance);
        out.put("savedBytesPerSecondScratch", savedScratch);
        out.put("movedBytesRebalance", rebalanceBytes);
        out.put("movedBytesScratch", scratchBytes);
        out.put("breakEvenHoursRebalance", savedRebalance <= 0 ? 0.0 : rebalanceBytes / savedRebalance / 3600);
        out.put("breakEvenHoursScratch", savedScratch <= 0 ? 0.0 : scratchBytes / savedScratch / 3600);
        if (withLinks) {
            // Cost-weighted figures (the placer's objective when the model has links), computed here from the links'
            // nominal figures (no forecasts in this benchmark).
            double oldCost = costOf(siteList, linkList, after, p0.placement());
            out.put("costReductionVsGreedy", 1 - costOf(siteList, linkList, before, p0.placement())
                    / costOf(siteList, linkList, before, pg.placement()));
            double scratchCostSaving = oldCost - costOf(siteList, linkList, after, scratch.placement());
            out.put("costRecovered", scratchCostSaving <= 0 ? 1.0
                    : (oldCost - costOf(siteList, linkList, after, rebalanced.placement())) / scratchCostSaving);
        }
        out.put("planSeconds", planSeconds);
        out.put("rebalanceSeconds", rebalanceSeconds);
        return out;
    }

    private static List<Traffic> traffic(int[] cluster, SplittableRandom r) {
        int n = cluster.length;
        Map<Integer, List<Integer>> members = new HashMap<>();
        for (int v = 0; v < n; v++) {
            members.computeIfAbsent(cluster[v], c -> new ArrayList<>()).add(v);
        }
        List<Traffic> out = new ArrayList<>();
        for (int v = 0; v < n; v++) {
            List<Integer> mine = members.get(cluster[v]);
            for (int i = 0; i < 2 && mine.size() > 1; i++) {
                int u = mine.get(r.nextInt(mine.size()));
                if (u != v) {
                    out.add(new Traffic("vm" + v, "vm" + u, Math.pow(10, 5 + 2 * r.nextDouble())));
                }
            }
            if (r.nextDouble() < 0.1) {
                int u = r.nextInt(n);
                if (u != v) {
                    out.add(new Traffic("vm" + v, "vm" + u, Math.pow(10, 3 + 2 * r.nextDouble())));
                }
            }
        }
        return out;
    }

    private static PlacementModel model(List<Vm> vms, List<Site> sites, List<Traffic> traffic, Map<String, String> current,
                                        List<SiteLink> links) {
        PlacementModel.Builder b = PlacementModel.builder();
        vms.forEach(b::vm);
        sites.forEach(b::site);
        traffic.forEach(b::traffic);
        current.forEach(b::currentlyOn);
        links.forEach(b::link);
        return b.build();
    }

    /** One link per pair of sites: RTT from distance on a plane, log-uniform bandwidth, uniform price (see class doc). */
    static List<SiteLink> links(List<Site> sites, SplittableRandom r) {
        int k = sites.size();
        double[] x = new double[k];
        double[] y = new double[k];
        for (int s = 0; s < k; s++) {
            x[s] = 100 * r.nextDouble();
            y[s] = 100 * r.nextDouble();
        }
        List<SiteLink> out = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            for (int j = i + 1; j < k; j++) {
                double rttMs = 2 + 1.5 * Math.hypot(x[i] - x[j], y[i] - y[j]);
                double bits = Math.pow(10, 9 + r.nextDouble());
                double price = 0.01 + 0.08 * r.nextDouble();
                out.add(new SiteLink(sites.get(i).id(), sites.get(j).id(),
                        java.time.Duration.ofNanos(Math.round(rttMs * 1e6)), bits, price, ""));
            }
        }
        return out;
    }

    /** The cost-weighted cross-site traffic of {@code placement}: each flow times the cost of its pair of sites. */
    private static double costOf(List<Site> sites, List<SiteLink> links, List<Traffic> traffic,
                                 Map<String, String> placement) {
        SiteCosts costs = SiteLink.costs(sites.stream().map(Site::id).toList(), links, peer -> null);
        double sum = 0;
        for (Traffic t : traffic) {
            String a = placement.get(t.from());
            String b = placement.get(t.to());
            if (!a.equals(b)) {
                sum += t.bytesPerSecond() * costs.cost(a, b);
            }
        }
        return sum;
    }

    private static double share(List<Traffic> traffic, Map<String, String> placement) {
        double cross = 0;
        double total = 0;
        for (Traffic t : traffic) {
            total += t.bytesPerSecond();
            if (!placement.get(t.from()).equals(placement.get(t.to()))) {
                cross += t.bytesPerSecond();
            }
        }
        return total == 0 ? 0 : cross / total;
    }

    /** Cross-site traffic of {@code placement}, bytes per second. */
    private static double cross(List<Traffic> traffic, Map<String, String> placement) {
        double cross = 0;
        for (Traffic t : traffic) {
            if (!placement.get(t.from()).equals(placement.get(t.to()))) {
                cross += t.bytesPerSecond();
            }
        }
        return cross;
    }

    private static long movedBytes(List<Vm> vms, Map<String, String> from, Map<String, String> to) {
        long sum = 0;
        for (Vm vm : vms) {
            if (!from.get(vm.id()).equals(to.get(vm.id()))) {
                sum += vm.stateBytes();
            }
        }
        return sum;
    }

    private static int overfilled(List<Vm> vms, List<Site> sites, Map<String, String> placement) {
        Map<String, double[]> load = new HashMap<>();
        for (Vm vm : vms) {
            double[] l = load.computeIfAbsent(placement.get(vm.id()), s -> new double[2]);
            l[0] += vm.cpuCores();
            l[1] += vm.memoryBytes();
        }
        int over = 0;
        for (Site s : sites) {
            double[] l = load.getOrDefault(s.id(), new double[2]);
            if (l[0] > s.cpuCores() || l[1] > s.memoryBytes()) {
                over++;
            }
        }
        return over;
    }
}
