package io.dwcp.core.migration;

/**
 * One BATCH frame of a seeded round as the receiver keeps it until the round is verified: its ops (ascending pages
 * and their sources) and its literal data, still compressed in {@code format}.
 */
record SeedBatch(int[] pages, int[] sources, int literals, int rawBytes, int format, byte[] deflated) {
}
