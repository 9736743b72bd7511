package io.dwcp.core.placement;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * What a {@link io.dwcp.core.spi.Placer} places: VMs, the traffic between them, the sites with their capacities, an
 * optional inter-site cost matrix or the WAN links it is derived from, the current placement (for rebalancing; may be
 * empty) and optionally the nodes inside each site. Immutable; validated when built.
 *
 * <pre>{@code
 * PlacementModel model = PlacementModel.builder()
 *         .site(new Site("eu", 64, 256L << 30)).site(new Site("us", 64, 256L << 30))
 *         .vm(Vm.of("web", 4, 8L << 30, 8L << 30)).vm(Vm.of("db", 8, 32L << 30, 32L << 30).pinnedTo("eu"))
 *         .traffic(new Traffic("web", "db", 5e6))
 *         .build();
 * }</pre>
 *
 * @param vms the VMs, unique ids
 * @param traffic directed traffic between known VMs; several edges between one pair add up
 * @param sites the sites, unique ids
 * @param costs inter-site costs over exactly these sites, or empty for 1 per cross-site byte
 * @param currentPlacement VM id → site id of VMs placed now (a subset of the VMs)
 * @param links WAN links between the sites, from which the placer derives the costs when {@code costs} is empty (with
 *     the bandwidth predictor's forecasts when one runs); empty for none
 * @param nodes hosts inside the sites; the VMs of a site that has nodes are also assigned to them; empty for none
 */
public record PlacementModel(List<Vm> vms, List<Traffic> traffic, List<Site> sites, Optional<SiteCosts> costs,
                             Map<String, String> currentPlacement, List<SiteLink> links, List<Node> nodes) {
    /**
     * Copies the collections and validates the model.
     *
     * @param vms the VMs, unique ids
     * @param traffic directed traffic between known VMs
     * @param sites the sites, unique ids
     * @param costs inter-site costs over exactly these sites, or empty
     * @param currentPlacement VM id → site id of VMs placed now
     * @param links WAN links between the sites, or empty
     * @param nodes hosts inside the sites, or empty
     * @throws IllegalArgumentException naming the item for duplicate ids, traffic or placements naming unknown VMs or
     *     sites, pins to unknown sites, a cost matrix over other sites, links or nodes naming unknown sites
     */
    public PlacementModel {
        links = List.copyOf(links);
        nodes = List.copyOf(nodes);
        vms = List.copyOf(vms);
        traffic = List.copyOf(traffic);
        sites = List.copyOf(sites);
        Objects.requireNonNull(costs, "costs");
        currentPlacement = Map.copyOf(currentPlacement);
        Set<String> siteIds = new HashSet<>();
        for (Site s : sites) {
            if (!siteIds.add(s.id())) {
                throw new IllegalArgumentException("duplicate site id '" + s.id() + "'");
            }
        }
        Set<String> vmIds = new HashSet<>();
        for (Vm v : vms) {
            if (!vmIds.add(v.id())) {
                throw new IllegalArgumentException("duplicate VM id '" + v.id() + "'");
            }
            if (v.pinnedSite().isPresent() && !siteIds.contains(v.pinnedSite().get())) {
                throw new IllegalArgumentException("VM '" + v.id() + "' is pinned to unknown site '" + v.pinnedSite().get() + "'");
            }
        }
        for (Traffic t : traffic) {
            if (!vmIds.contains(t.from()) || !vmIds.contains(t.to())) {
                throw new IllegalArgumentException("traffic " + t.from() + " -> " + t.to() + " names unknown VM '"
                        + (vmIds.contains(t.from()) ? t.to() : t.from()) + "'");
            }
        }
        for (Map.Entry<String, String> e : currentPlacement.entrySet()) {
            if (!vmIds.contains(e.getKey())) {
                throw new IllegalArgumentException("current placement names unknown VM '" + e.getKey() + "'");
            }
            if (!siteIds.contains(e.getValue())) {
                throw new IllegalArgumentException("current placement puts VM '" + e.getKey() + "' on unknown site '"
                        + e.getValue() + "'");
            }
        }
        if (costs.isPresent() && !new HashSet<>(costs.get().sites()).equals(siteIds)) {
            throw new IllegalArgumentException("cost matrix sites " + costs.get().sites() + " differ from the model's sites "
                    + sites.stream().map(Site::id).toList());
        }
        for (SiteLink l : links) {
            if (!siteIds.contains(l.from()) || !siteIds.contains(l.to())) {
                throw new IllegalArgumentException("link " + l.from() + " -> " + l.to() + " names unknown site '"
                        + (siteIds.contains(l.from()) ? l.to() : l.from()) + "'");
            }
        }
        Set<String> nodeIds = new HashSet<>();
        for (Node node : nodes) {
            if (!nodeIds.add(node.id())) {
                throw new IllegalArgumentException("duplicate node id '" + node.id() + "'");
            }
            if (!siteIds.contains(node.site())) {
                throw new IllegalArgumentException("node '" + node.id() + "' is in unknown site '" + node.site() + "'");
            }
        }
    }

    /**
     * A model without links or nodes.
     *
     * @param vms the VMs, unique ids
     * @param traffic directed traffic between known VMs
     * @param sites the sites, unique ids
     * @param costs inter-site costs over exactly these sites, or empty
     * @param currentPlacement VM id → site id of VMs placed now
     * @throws IllegalArgumentException as the canonical constructor
     */
    public PlacementModel(List<Vm> vms, List<Traffic> traffic, List<Site> sites, Optional<SiteCosts> costs,
                          Map<String, String> currentPlacement) {
        this(vms, traffic, sites, costs, currentPlacement, List.of(), List.of());
    }

    /**
     * This model with another cost matrix (the other parts unchanged).
     *
     * @param matrix inter-site costs over exactly these sites
     * @return the new model
     */
    public PlacementModel withCosts(SiteCosts matrix) {
        return new PlacementModel(vms, traffic, sites, Optional.of(matrix), currentPlacement, links, nodes);
    }

    /**
     * A builder of an empty model.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The cost of one byte per second from site {@code from} to site {@code to}.
     *
     * @param from the source site id
     * @param to the destination site id
     * @return 0 when the sites are equal, else the matrix entry, or 1 without a matrix
     */
    public double cost(String from, String to) {
        if (from.equals(to)) {
            return 0;
        }
        return costs.map(c -> c.cost(from, to)).orElse(1.0);
    }

    /** Builder of a {@link PlacementModel}. Not thread-safe. */
    public static final class Builder {
        private final List<Vm> vms = new ArrayList<>();
        private final List<Traffic> traffic = new ArrayList<>();
        private final List<Site> sites = new ArrayList<>();
        private final Map<String, String> current = new LinkedHashMap<>();
        private final List<SiteLink> links = new ArrayList<>();
        private final List<Node> nodes = new ArrayList<>();
        private SiteCosts costs;

        private Builder() {
        }

        /**
         * Adds a VM.
         *
         * @param vm the VM
         * @return this builder
         */
        public Builder vm(Vm vm) {
            vms.add(Objects.requireNonNull(vm, "vm"));
            return this;
        }

        /**
         * Adds a traffic edge; several edges between one pair add up.
         *
         * @param t the edge
         * @return this builder
         */
        public Builder traffic(Traffic t) {
            traffic.add(Objects.requireNonNull(t, "traffic"));
            return this;
        }

        /**
         * Adds a site.
         *
         * @param site the site
         * @return this builder
         */
        public Builder site(Site site) {
            sites.add(Objects.requireNonNull(site, "site"));
            return this;
        }

        /**
         * Sets the inter-site cost matrix (for example from bandwidth forecasts); 1 per cross-site byte when not set.
         *
         * @param costs the matrix, over exactly the model's sites
         * @return this builder
         */
        public Builder costs(SiteCosts costs) {
            this.costs = Objects.requireNonNull(costs, "costs");
            return this;
        }

        /**
         * Adds a WAN link; the placer derives the cost matrix from the links when no matrix is set.
         *
         * @param link the link
         * @return this builder
         */
        public Builder link(SiteLink link) {
            links.add(Objects.requireNonNull(link, "link"));
            return this;
        }

        /**
         * Adds a node (host) inside a site.
         *
         * @param node the node
         * @return this builder
         */
        public Builder node(Node node) {
            nodes.add(Objects.requireNonNull(node, "node"));
            return this;
        }

        /**
         * Records that {@code vm} lives on {@code site} now (a later call for the same VM replaces it).
         *
         * @param vm the VM id
         * @param site the site id
         * @return this builder
         */
        public Builder currentlyOn(String vm, String site) {
            current.put(Objects.requireNonNull(vm, "vm"), Objects.requireNonNull(site, "site"));
            return this;
        }

        /**
         * Builds the model.
         *
         * @return the validated, immutable model
         * @throws IllegalArgumentException as the canonical constructor of {@link PlacementModel}
         */
        public PlacementModel build() {
            return new PlacementModel(vms, traffic, sites, Optional.ofNullable(costs), current, links, nodes);
        }
    }
}
