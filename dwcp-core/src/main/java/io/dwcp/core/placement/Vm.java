package io.dwcp.core.placement;

import java.util.Objects;
import java.util.Optional;

/**
 * One VM (or task) to place.
 *
 * @param id unique, non-blank
 * @param cpuCores CPU demand in cores, finite and ≥ 0
 * @param memoryBytes memory demand in bytes, ≥ 0
 * @param stateBytes bytes a migration of this VM moves, ≥ 0 (the move cost)
 * @param pinnedSite the site this VM must live on, or empty
 * @param antiAffinityGroup VMs of one group must all live on different sites; empty for none
 */
public record Vm(String id, double cpuCores, long memoryBytes, long stateBytes, Optional<String> pinnedSite,
                 Optional<String> antiAffinityGroup) {
    /**
     * Validates the id and the weights.
     *
     * @param id unique, non-blank
     * @param cpuCores CPU demand in cores, finite and ≥ 0
     * @param memoryBytes memory demand in bytes, ≥ 0
     * @param stateBytes bytes a migration of this VM moves, ≥ 0 (the move cost)
     * @param pinnedSite the site this VM must live on, or empty
     * @param antiAffinityGroup VMs of one group must all live on different sites; empty for none
     * @throws IllegalArgumentException naming the VM when a weight is negative or NaN or the id is blank
     */
    public Vm {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(pinnedSite, "pinnedSite");
        Objects.requireNonNull(antiAffinityGroup, "antiAffinityGroup");
        if (id.isBlank()) {
            throw new IllegalArgumentException("VM id must not be blank");
        }
        if (!(cpuCores >= 0) || Double.isInfinite(cpuCores)) {
            throw new IllegalArgumentException("VM '" + id + "': cpuCores must be finite and >= 0, got " + cpuCores);
        }
        if (memoryBytes < 0 || stateBytes < 0) {
            throw new IllegalArgumentException("VM '" + id + "': memoryBytes and stateBytes must be >= 0, got "
                    + memoryBytes + " and " + stateBytes);
        }
    }

    /**
     * An unpinned VM without anti-affinity.
     *
     * @param id unique, non-blank
     * @param cpuCores CPU demand in cores, finite and ≥ 0
     * @param memoryBytes memory demand in bytes, ≥ 0
     * @param stateBytes bytes a migration of this VM moves, ≥ 0
     * @return the VM
     * @throws IllegalArgumentException as the canonical constructor
     */
    public static Vm of(String id, double cpuCores, long memoryBytes, long stateBytes) {
        return new Vm(id, cpuCores, memoryBytes, stateBytes, Optional.empty(), Optional.empty());
    }

    /**
     * This VM pinned to {@code site}.
     *
     * @param site the id of the site the VM must live on
     * @return a copy of this VM with the pin set (any earlier pin replaced)
     */
    public Vm pinnedTo(String site) {
        return new Vm(id, cpuCores, memoryBytes, stateBytes, Optional.of(site), antiAffinityGroup);
    }

    /**
     * This VM in anti-affinity group {@code group}.
     *
     * @param group the group name
     * @return a copy of this VM in that group (any earlier group replaced)
     */
    public Vm inAntiAffinityGroup(String group) {
        return new Vm(id, cpuCores, memoryBytes, stateBytes, pinnedSite, Optional.of(group));
    }
}
