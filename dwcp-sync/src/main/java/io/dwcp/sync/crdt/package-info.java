/**
 * The δ-CRDT library (public API): state-based conflict-free replicated types whose mutators return small deltas,
 * joined with {@link io.dwcp.sync.crdt.Crdt#merge}; their canonical, versioned encoding (equal states encode to equal
 * bytes); dots and dotted version vectors; and the {@link io.dwcp.sync.crdt.TypeRegistry} that decodes a state from
 * its type tag.
 */
package io.dwcp.sync.crdt;
