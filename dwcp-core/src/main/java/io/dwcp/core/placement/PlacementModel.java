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
 * optional inter-site cost matrix, and the current placement (for rebalancing; may be empty). Immutable; validated
 * when built.
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
 */
public record PlacementModel(List<Vm> vms, List<Traffic> traffic, List<Site> sites, Optional<SiteCosts> costs,
                             Map<String, String> currentPlacement) {
    /**
     * Copies the collections and validates the model.
     *
     * @param vms the VMs, unique ids
     * @param traffic directed traffic between known VMs
     * @param sites the sites, unique ids
     * @param costs inter-site costs over exactly these sites, or empty
     * @param currentPlacement VM id → site id of VMs placed now
     * @throws IllegalArgumentException naming the item for duplicate ids, traffic or placements naming unknown VMs or
     *     sites, pins to unknown sites, or a cost matrix over other sites
     */
    public PlacementModel {
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
            return new PlacementModel(vms, traffic, sites, Optional.ofNullable(costs), current);
        }
    }
}
