package io.dwcp.core.migration;

/**
 * When a {@link MigrationSender} whose receiver confirms no baseline asks the receiver for the description of the
 * replica it holds (a replica-seeded round) instead of sending the whole state.
 */
public enum SeedMode {
    /**
     * The default: try the seed exchange when it is expected to cost less than a full round, judged from the link
     * rate the sender plans with and the state size (hashing the state and the description against sending it
     * compressed); after the description, send a full round instead when most pages differ.
     */
    AUTO,
    /** Always try the seed exchange first (a full round still follows when the receiver has no seed). */
    ALWAYS,
    /** Never: a round without a confirmed baseline is a full round. */
    NEVER
}
