/**
 * Checking recorded histories of the consensus register: {@link io.dwcp.consensus.check.LinearizabilityChecker}
 * (Wing–Gong search with memoisation, per key) and {@link io.dwcp.consensus.check.OwnershipCheck} (at most one owner
 * per VM and epoch). Public API for tests and tools; independent of Ratis.
 */
package io.dwcp.consensus.check;
