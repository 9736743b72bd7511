package io.dwcp.core.spi;

/**
 * The phases the library's pre-copy loop records in the cluster metadata ({@link VmMetadata#migrationPhase}) for a
 * migration that names its VM. Stored by {@link #name()}; applications may record phases of their own beside these.
 */
public enum MigrationPhase {
    /** Pre-copy rounds are running; the guest runs at the source. */
    PRECOPY,
    /** The guest is paused and the final round is being sent. */
    STOP_AND_COPY,
    /** The final round was verified at the destination; the VM's placement is the destination. */
    COMPLETED,
    /** The migration failed; the VM stays where it was (its placement is unchanged). */
    FAILED,
    /** The caller cancelled the migration; the VM stays where it was. */
    CANCELLED
}
