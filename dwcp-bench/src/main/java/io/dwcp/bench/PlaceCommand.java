package io.dwcp.bench;

import io.dwcp.core.config.DwcpConfig;
import io.dwcp.core.placement.Move;
import io.dwcp.core.placement.Node;
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

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code dwcp place --model MODEL.json --out PLAN.json [--rebalance] [--config dwcp.yaml] [--json]}: reads a placement
 * model (VMs, traffic, sites, optional cost matrix and current placement; schema in {@code docs/partition.md}), runs
 * the same placer the library runs ({@code place}, or {@code rebalance} from the current placement), and writes the
 * placement, the ordered move plan, the predicted cross-site traffic and share and the imbalance as JSON. With
 * {@code --json} the last stdout line is a summary object. A malformed model exits with status 2 naming the problem;
 * an infeasible one with status 1 and the {@code INFEASIBLE} message.
 */
final class PlaceCommand implements DwcpCli.Command {
    /** Model files larger than this are refused before they are read. */
    static final long MAX_MODEL_BYTES = 256L << 20;

    @Override
    public String summary() {
        return "place VMs across sites from a JSON model; write placement and ordered move plan as JSON";
    }

    @Override
    public int run(String[] args) throws Exception {
        CliArgs a = new CliArgs(args, Set.of("model", "out", "config"), Set.of("rebalance", "json", "help"));
        if (a.flag("help")) {
            System.err.println("usage: dwcp place --model MODEL.json --out PLAN.json [--rebalance] [--config FILE] [--json]");
            return 0;
        }
        Path modelFile = Path.of(a.require("model"));
        Path out = Path.of(a.require("out"));
        if (Files.size(modelFile) > MAX_MODEL_BYTES) {
            throw new IllegalArgumentException(modelFile + " is " + Files.size(modelFile) + " bytes; at most "
                    + MAX_MODEL_BYTES + " are read");
        }
        PlacementModel model = model(JsonReader.parse(Files.readString(modelFile, StandardCharsets.UTF_8), modelFile.toString()),
                modelFile.toString());
        DwcpConfig config = a.get("config") == null ? DwcpConfig.defaults() : DwcpConfig.builder().file(Path.of(a.get("config"))).build();
        Placer placer = new ItpPlacementProvider().create(ComponentContext.standalone(config, new SimpleMeterRegistry(), 1));
        placer.start();
        PlacementPlan plan;
        long t0 = System.nanoTime();
        try {
            plan = a.flag("rebalance") ? placer.rebalance(model) : placer.place(model);
        } finally {
            placer.stop();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("outcome", plan.outcome().name());
        result.put("crossSiteBytesPerSecond", plan.crossSiteBytesPerSecond());
        result.put("costWeightedCrossSite", plan.costWeightedCrossSite());
        result.put("crossSiteShare", plan.crossSiteShare());
        result.put("imbalance", plan.imbalance());
        result.put("moveCount", plan.moves().size());
        result.put("bytesToMove", plan.bytesToMove());
        result.put("seconds", seconds);
        Map<String, Object> full = new LinkedHashMap<>(result);
        full.put("placement", new LinkedHashMap<>(new java.util.TreeMap<>(plan.placement())));
        List<Object> moves = new ArrayList<>();
        for (Move m : plan.moves()) {
            Map<String, Object> mm = new LinkedHashMap<>();
            mm.put("vm", m.vm());
            mm.put("from", m.fromSite());
            mm.put("to", m.toSite());
            mm.put("stateBytes", m.stateBytes());
            moves.add(mm);
        }
        full.put("moves", moves);
        if (!plan.nodePlacement().isEmpty()) {
            full.put("nodePlacement", new LinkedHashMap<>(new java.util.TreeMap<>(plan.nodePlacement())));
        }
        Files.writeString(out, Json.write(full) + "\n", StandardCharsets.UTF_8);
        if (a.flag("json")) {
            System.out.println(Json.write(result));
        } else {
            System.out.printf("%s: %d VMs, cross-site share %.4f, imbalance %.4f, %d moves (%d bytes) -> %s%n",
                    plan.outcome(), plan.placement().size(), plan.crossSiteShare(), plan.imbalance(), plan.moves().size(),
                    plan.bytesToMove(), out);
        }
        return 0;
    }

    /** The model from parsed JSON; {@code IllegalArgumentException} naming the file and item when it is malformed. */
    static PlacementModel model(Object json, String name) {
        try {
            return build(json, name);
        } catch (IllegalArgumentException e) {
            if (e.getMessage() != null && e.getMessage().startsWith(name)) {
                throw e;
            }
            throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
        }
    }

    private static PlacementModel build(Object json, String name) {
        Map<String, Object> root = object(json, name);
        PlacementModel.Builder b = PlacementModel.builder();
        for (Object o : list(root, "sites", name, true)) {
            Map<String, Object> s = object(o, name + ": sites[]");
            b.site(new Site(string(s, "id", name), number(s, "cpuCores", name), (long) number(s, "memoryBytes", name)));
        }
        for (Object o : list(root, "vms", name, true)) {
            Map<String, Object> v = object(o, name + ": vms[]");
            String id = string(v, "id", name);
            Vm vm = new Vm(id, number(v, "cpuCores", name), (long) number(v, "memoryBytes", name),
                    (long) number(v, "stateBytes", name), Optional.ofNullable(optString(v, "pinnedSite", name)),
                    Optional.ofNullable(optString(v, "antiAffinityGroup", name)));
            b.vm(vm);
        }
        for (Object o : list(root, "traffic", name, false)) {
            Map<String, Object> t = object(o, name + ": traffic[]");
            b.traffic(new Traffic(string(t, "from", name), string(t, "to", name), number(t, "bytesPerSecond", name)));
        }
        if (root.get("costs") != null) {
            Map<String, Object> c = object(root.get("costs"), name + ": costs");
            List<String> sites = new ArrayList<>();
            for (Object s : list(c, "sites", name, true)) {
                sites.add(s instanceof String str ? str : failString(name + ": costs.sites"));
            }
            List<Object> rows = list(c, "matrix", name, true);
            double[][] m = new double[rows.size()][];
            for (int i = 0; i < rows.size(); i++) {
                if (!(rows.get(i) instanceof List<?> row)) {
                    throw new IllegalArgumentException(name + ": costs.matrix row " + i + " is not an array");
                }
                m[i] = new double[row.size()];
                for (int j = 0; j < row.size(); j++) {
                    if (!(row.get(j) instanceof Double d)) {
                        throw new IllegalArgumentException(name + ": costs.matrix[" + i + "][" + j + "] is not a number");
                    }
                    m[i][j] = d;
                }
            }
            b.costs(SiteCosts.of(sites, m));
        }
        for (Object o : list(root, "links", name, false)) {
            Map<String, Object> l = object(o, name + ": links[]");
            String peer = optString(l, "peer", name);
            b.link(new SiteLink(string(l, "from", name), string(l, "to", name),
                    java.time.Duration.ofNanos(Math.round(number(l, "rttMillis", name) * 1e6)),
                    number(l, "bandwidthBitsPerSecond", name), number(l, "pricePerGb", name), peer == null ? "" : peer));
        }
        for (Object o : list(root, "nodes", name, false)) {
            Map<String, Object> nd = object(o, name + ": nodes[]");
            b.node(new Node(string(nd, "id", name), string(nd, "site", name), number(nd, "cpuCores", name),
                    (long) number(nd, "memoryBytes", name)));
        }
        if (root.get("currentPlacement") != null) {
            for (Map.Entry<String, Object> e : object(root.get("currentPlacement"), name + ": currentPlacement").entrySet()) {
                if (!(e.getValue() instanceof String site)) {
                    throw new IllegalArgumentException(name + ": currentPlacement." + e.getKey() + " is not a site id string");
                }
                b.currentlyOn(e.getKey(), site);
            }
        }
        return b.build();
    }

    private static String failString(String where) {
        throw new IllegalArgumentException(where + ": expected strings");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Object o, String where) {
        if (!(o instanceof Map)) {
            throw new IllegalArgumentException(where + ": expected a JSON object");
        }
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Map<String, Object> m, String key, String name, boolean required) {
        Object o = m.get(key);
        if (o == null) {
            if (required) {
                throw new IllegalArgumentException(name + ": missing array \"" + key + "\"");
            }
            return List.of();
        }
        if (!(o instanceof List)) {
            throw new IllegalArgumentException(name + ": \"" + key + "\" must be an array");
        }
        return (List<Object>) o;
    }

    private static String string(Map<String, Object> m, String key, String name) {
        String s = optString(m, key, name);
        if (s == null) {
            throw new IllegalArgumentException(name + ": missing string \"" + key + "\" in " + m);
        }
        return s;
    }

    private static String optString(Map<String, Object> m, String key, String name) {
        Object o = m.get(key);
        if (o != null && !(o instanceof String)) {
            throw new IllegalArgumentException(name + ": \"" + key + "\" must be a string in " + m);
        }
        return (String) o;
    }

    private static double number(Map<String, Object> m, String key, String name) {
        Object o = m.get(key);
        if (!(o instanceof Double d)) {
            throw new IllegalArgumentException(name + ": \"" + key + "\" must be a number in " + m);
        }
        return d;
    }
}
