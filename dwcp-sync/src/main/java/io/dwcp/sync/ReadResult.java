package io.dwcp.sync;

import io.dwcp.sync.crdt.Crdt;

import java.time.Duration;
import java.util.Optional;

/**
 * A bounded-staleness read: the local value and how stale this replica may be.
 *
 * @param value the value at the key, empty when absent or removed
 * @param staleness the longest time since the last successful exchange with a peer
 */
public record ReadResult(Optional<Crdt<?>> value, Duration staleness) {
}
