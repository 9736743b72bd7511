package io.dwcp.core.placement;

import java.util.Objects;

/**
 * A site (region) VMs can live on, with hard capacities.
 *
 * @param id unique, non-blank
 * @param cpuCores CPU capacity in cores, finite and ≥ 0
 * @param memoryBytes memory capacity in bytes, ≥ 0
 */
public record Site(String id, double cpuCores, long memoryBytes) {
    /**
     * Validates the id and the capacities.
     *
     * @param id unique, non-blank
     * @param cpuCores CPU capacity in cores, finite and ≥ 0
     * @param memoryBytes memory capacity in bytes, ≥ 0
     * @throws IllegalArgumentException naming the site when a capacity is negative or NaN or the id is blank
     */
    public Site {
        Objects.requireNonNull(id, "id");
        if (id.isBlank()) {
            throw new IllegalArgumentException("site id must not be blank");
        }
        if (!(cpuCores >= 0) || Double.isInfinite(cpuCores) || memoryBytes < 0) {
            throw new IllegalArgumentException("site '" + id + "': capacities must be finite and >= 0, got cpuCores="
                    + cpuCores + ", memoryBytes=" + memoryBytes);
        }
    }
}
