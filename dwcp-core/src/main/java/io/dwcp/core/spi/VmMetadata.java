package io.dwcp.core.spi;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The VM part of the replicated cluster metadata, as the migration API writes it and the placer reads it: per VM its
 * placement (site and node), its migration phase and the baseline version of its state. Provided by the sync
 * component ({@link SyncService#vmMetadata()}, ASS in {@code dwcp-sync}) and reached through
 * {@code DwcpManager.vmMetadata()} or, inside a component, {@link ComponentContext#vmMetadata()}.
 *
 * <pre>{@code
 * dwcp.vmMetadata().ifPresent(md -> md.assign("vm-17", "eu-west", "node-4"));
 * Map<String, VmPlacement> now = dwcp.vmMetadata().map(VmMetadata::placements).orElse(Map.of());
 * }</pre>
 *
 * <p>Writes apply locally at once and reach the other sites asynchronously; every site converges to the same records.
 * Concurrent placements of one VM resolve by last writer (hybrid logical clock); concurrent phases are all kept until a
 * later write supersedes them. Thread-safe.
 */
public interface VmMetadata {
    /**
     * Records that {@code vmId} runs on {@code node} in {@code site} (last writer wins).
     *
     * @param vmId the VM id
     * @param site the site, not null
     * @param node the node, not null
     */
    void assign(String vmId, String site, String node);

    /**
     * The VM's placement.
     *
     * @param vmId the VM id
     * @return its site and node, empty when never assigned (or the record was removed)
     */
    Optional<VmPlacement> placement(String vmId);

    /**
     * Every placed VM's placement, as known here.
     *
     * @return an immutable snapshot, VM id → placement
     */
    Map<String, VmPlacement> placements();

    /**
     * Records the VM's migration phase (the loop writes {@link MigrationPhase} names; applications may write others).
     *
     * @param vmId the VM id
     * @param phase the phase, not null
     */
    void migrationPhase(String vmId, String phase);

    /**
     * The VM's migration phase: one value, or several when sites wrote phases concurrently and no later write has
     * superseded them.
     *
     * @param vmId the VM id
     * @return the phases, sorted; empty when never set
     */
    List<String> migrationPhases(String vmId);

    /**
     * Records the baseline version of the VM's state: what the destination holds and a later delta migration builds
     * on. The loop writes {@link #versionOf(BaselineRef)}.
     *
     * @param vmId the VM id
     * @param version the version, not null
     */
    void baselineVersion(String vmId, String version);

    /**
     * The VM's baseline version.
     *
     * @param vmId the VM id
     * @return the last version written, empty when never set
     */
    Optional<String> baselineVersion(String vmId);

    /**
     * The text the migration loop records for a baseline: {@code <chain id>/<version>/<digest>}, id and digest in
     * 16 hex digits.
     *
     * @param ref the baseline
     * @return its recorded form
     */
    static String versionOf(BaselineRef ref) {
        return String.format("%016x/%d/%016x", ref.id(), ref.version(), ref.digest());
    }
}
