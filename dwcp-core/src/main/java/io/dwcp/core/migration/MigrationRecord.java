package io.dwcp.core.migration;

import io.dwcp.core.spi.BaselineRef;
import io.dwcp.core.spi.MigrationPhase;
import io.dwcp.core.spi.VmMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Optional;
import java.util.function.Consumer;

/**
 * What one migration records in the cluster's VM metadata: its phases, the baseline version after every verified
 * round, and at the end the VM's new placement. A write that fails is logged and skipped: the metadata follows the
 * migration, it never fails it. Called on the migration's thread only.
 */
final class MigrationRecord {
    private static final Logger LOG = LoggerFactory.getLogger(MigrationRecord.class);
    /** Records nothing (no metadata, or the migration does not name its VM). */
    static final MigrationRecord NONE = new MigrationRecord(null, null, null, null);

    private final VmMetadata metadata;
    private final String vmId;
    private final String site;
    private final String node;

    private MigrationRecord(VmMetadata metadata, String vmId, String site, String node) {
        this.metadata = metadata;
        this.vmId = vmId;
        this.site = site;
        this.node = node;
    }

    /**
     * The record of a migration of {@code vmId} to {@code node} in {@code site}.
     *
     * @return {@link #NONE} when {@code metadata} or {@code vmId} is null
     */
    static MigrationRecord of(VmMetadata metadata, String vmId, String site, String node) {
        return metadata == null || vmId == null ? NONE : new MigrationRecord(metadata, vmId, site, node);
    }

    void phase(MigrationPhase phase) {
        write("phase " + phase, md -> md.migrationPhase(vmId, phase.name()));
    }

    /** The baseline the destination verified in the round just ended, when the codec keeps one. */
    void baseline(Optional<BaselineRef> ref) {
        ref.ifPresent(r -> write("baseline version", md -> md.baselineVersion(vmId, VmMetadata.versionOf(r))));
    }

    /** The final round was verified: the VM now runs at the destination. */
    void completed() {
        write("placement", md -> md.assign(vmId, site, node));
        phase(MigrationPhase.COMPLETED);
    }

    private void write(String what, Consumer<VmMetadata> w) {
        if (metadata == null) {
            return;
        }
        try {
            w.accept(metadata);
        } catch (RuntimeException e) {
            LOG.warn("migration of VM '{}': recording its {} in the cluster metadata failed; the migration goes on",
                    vmId, what, e);
        }
    }
}
