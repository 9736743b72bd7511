package io.dwcp.core.placement;

import java.util.Objects;

/**
 * A host inside a site, with hard capacities. When a model lists nodes for a site, the placer also assigns every VM
 * of that site to one of its nodes ({@link PlacementPlan#nodePlacement()}), keeping each node within its capacities.
 *
 * @param id unique among all nodes, non-blank
 * @param site the id of the site the node belongs to
 * @param cpuCores CPU capacity in cores, finite and ≥ 0
 * @param memoryBytes memory capacity in bytes, ≥ 0
 */
public record Node(String id, String site, double cpuCores, long memoryBytes) {
    /**
     * Validates the ids and the capacities.
     *
     * @param id unique among all nodes, non-blank
     * @param site the id of the site the node belongs to
     * @param cpuCores CPU capacity in cores, finite and ≥ 0
     * @param memoryBytes memory capacity in bytes, ≥ 0
     * @throws IllegalArgumentException naming the node when an id is blank or a capacity is negative or NaN
     */
    public Node {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(site, "site");
        if (id.isBlank() || site.isBlank()) {
            throw new IllegalArgumentException("node id and site must not be blank, got '" + id + "' on '" + site + "'");
        }
        if (!(cpuCores >= 0) || Double.isInfinite(cpuCores) || memoryBytes < 0) {
            throw new IllegalArgumentException("node '" + id + "': capacities must be finite and >= 0, got cpuCores="
                    + cpuCores + ", memoryBytes=" + memoryBytes);
        }
    }
}
