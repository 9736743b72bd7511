package io.dwcp.core.spi;

import java.util.concurrent.CompletableFuture;

/**
 * Agreement on the small facts that must never diverge between sites: who owns a VM, which placement plan is in force
 * (ACP). The service is a replicated register map: each key holds a string value, and every operation on it is
 * <em>linearizable</em> — it takes effect atomically at one instant between its call and its completion, in one total
 * order that all nodes see.
 *
 * <p><b>Versions are fencing tokens.</b> Every value carries the log index of the command that wrote it
 * ({@link Versioned#version()}). Versions only grow, so a holder of a value can fence stale writers: a site that
 * owned VM {@code x} under version 17 and now reads an owner with version 42 knows it lost ownership at 42 and must
 * not resume the VM. {@link #handOver} is the migration's final step built on this.
 *
 * <p><b>Errors.</b> Futures complete exceptionally with a {@link io.dwcp.core.DwcpException} whose code is
 * {@code NOT_LEADER} (the contacted node is not the leader and no leader answered in time; the message names the
 * leader hint when one is known), {@code QUORUM_UNAVAILABLE} (no quorum committed the command before
 * {@code dwcp.consensus.proposal-timeout}; the command may or may not take effect later), {@code TIMEOUT},
 * {@code LIMIT_EXCEEDED} (command above {@code dwcp.consensus.max-command}; nothing was sent),
 * {@code ILLEGAL_STATE} (not running, or no group configured) or {@code IO_ERROR}. A retried command is never applied
 * twice: the service de-duplicates by (client id, sequence) and answers a duplicate with the original result.
 *
 * <p>Scope: a provider orders every key in one group (one site, the LOCAL scope) unless its documentation says
 * otherwise. It never weakens the consistency stated here.
 *
 * <p>Thread-safe; operations may be issued concurrently from any thread and complete on the provider's threads (do
 * not block in a dependent stage).
 */
public interface Consensus extends Component {
    /**
     * Reads a key, ordered with every write (a linearizable read).
     *
     * @param key 1–256 UTF-8 bytes
     * @return the value and its version; {@link Versioned#absent()} when the key was never written
     * @throws IllegalArgumentException for an empty or too long key
     */
    CompletableFuture<Versioned> read(String key);

    /**
     * Writes a key unconditionally.
     *
     * @param key the register key
     * @param value the value, not {@code null}
     * @return the value as written, its version being the log index of this write
     * @throws IllegalArgumentException for an empty or too long key, or a {@code null} value
     */
    CompletableFuture<Versioned> write(String key, String value);

    /**
     * Sets {@code key} to {@code newValue} if and only if its current value equals {@code expected}
     * ({@code null}: the key is absent).
     *
     * @param key the register key
     * @param expected the value it must hold, {@code null} for absent
     * @param newValue the value to set, not {@code null}
     * @return whether it was applied, and the value after the command (the new one if applied, else the current one)
     * @throws IllegalArgumentException for an empty or too long key, or a {@code null} new value
     */
    CompletableFuture<CasResult> compareAndSet(String key, String expected, String newValue);

    /**
     * The fenced hand-over that ends a migration: VM {@code vmId} moves from site {@code from} ({@code null}: no owner
     * yet) to site {@code to}, only if {@code from} still owns it. When applied, {@link CasResult#current()}'s version
     * is the new owner's fencing token; when not applied, {@code current} names the real owner.
     *
     * @param vmId the VM
     * @param from the site that owns it now, {@code null} when none does
     * @param to the new owner
     * @return whether the hand-over applied, and the owner after it
     */
    default CompletableFuture<CasResult> handOver(String vmId, String from, String to) {
        return compareAndSet(ownerKey(vmId), from, to);
    }

    /**
     * The current owner of a VM and its fencing token (a linearizable read).
     *
     * @param vmId the VM
     * @return the owner and its fencing token; absent when the VM never had one
     */
    default CompletableFuture<Versioned> owner(String vmId) {
        return read(ownerKey(vmId));
    }

    /**
     * The register key that holds a VM's owner: {@code vm/<vmId>/owner}.
     *
     * @param vmId the VM, a non-empty string
     * @return the register key
     * @throws IllegalArgumentException when {@code vmId} is null or empty
     */
    static String ownerKey(String vmId) {
        if (vmId == null || vmId.isEmpty()) {
            throw new IllegalArgumentException("vmId must be a non-empty string, got " + (vmId == null ? "null" : "''"));
        }
        return "vm/" + vmId + "/owner";
    }

    /**
     * A value and the log index of the command that wrote it.
     *
     * @param value the value, {@code null} when absent
     * @param version log index of the write (the fencing token), 0 when absent
     */
    record Versioned(String value, long version) {
        private static final Versioned ABSENT = new Versioned(null, 0);

        /**
         * Checks that the version is 0 exactly when the value is absent.
         *
         * @param value the value, {@code null} when absent
         * @param version log index of the write (the fencing token), 0 when absent
         * @throws IllegalArgumentException when they disagree
         */
        public Versioned {
            if (version < 0 || (value == null) != (version == 0)) {
                throw new IllegalArgumentException("version must be 0 exactly when the value is absent, got value="
                        + (value == null ? "null" : "'" + value + "'") + ", version=" + version);
            }
        }

        /** {@return the value of a key that was never written} */
        public static Versioned absent() {
            return ABSENT;
        }

        /** {@return whether the key holds a value} */
        public boolean isPresent() {
            return value != null;
        }
    }

    /**
     * Outcome of {@link #compareAndSet}.
     *
     * @param applied whether the expected value matched and the new value was written
     * @param current the value after the command: the new one when applied, else the one that did not match
     */
    record CasResult(boolean applied, Versioned current) {
        /**
         * Checks the components.
         *
         * @param applied whether the expected value matched and the new value was written
         * @param current the value after the command, not {@code null}
         */
        public CasResult {
            java.util.Objects.requireNonNull(current, "current");
        }
    }
}
