/**
 * ASS, the metadata-replication provider (public API: {@link io.dwcp.sync.AssSync}, {@link io.dwcp.sync.ReplicatedStore},
 * {@link io.dwcp.sync.AssSyncProvider}, {@link io.dwcp.sync.SyncStats}, {@link io.dwcp.sync.ReadResult}): a store of
 * δ-CRDTs replicated by delta gossip and Merkle anti-entropy over the DWCP transport SPI, with a replicated
 * membership (joins and final retirements) and removed keys collected at causal stability. The wire format is
 * documented in {@code docs/sync.md}; everything else here is package-private.
 */
package io.dwcp.sync;
