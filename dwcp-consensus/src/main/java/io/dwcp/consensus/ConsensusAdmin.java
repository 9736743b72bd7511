package io.dwcp.consensus;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Operator controls of the Raft group behind this module's {@link io.dwcp.core.spi.Consensus}; the consensus
 * component returned by {@code DwcpManager.consensus()} implements it when this module provides it:
 *
 * <pre>{@code
 * if (manager.consensus() instanceof ConsensusAdmin admin) {
 *     admin.transferLeadership("n2", Duration.ofSeconds(10)).get();
 * }
 * }</pre>
 *
 * Thread-safe. Futures complete on the component's threads and fail with a {@code DwcpException}
 * ({@code ILLEGAL_STATE} when not running, {@code QUORUM_UNAVAILABLE}, {@code NOT_LEADER} or {@code IO_ERROR}).
 */
public interface ConsensusAdmin {
    /**
     * Makes {@code nodeId} the leader: the leader stops accepting commands, brings the target up to date and lets it
     * start an election at once.
     *
     * @param nodeId the voter to lead
     * @param timeout how long the transfer may take before it fails
     * @return completes when the target leads; fails with a {@code DwcpException} otherwise
     * @throws IllegalArgumentException when {@code nodeId} is not a voter
     */
    CompletableFuture<Void> transferLeadership(String nodeId, Duration timeout);

    /**
     * Changes the voters to {@code peerList} ({@code id@host:port,...}). Change one voter at a time. A joining replica
     * must already run, started with a peer list that includes itself; the leader then brings it up to date.
     *
     * @param peerList the new voters, {@code id@host:port,...}
     * @return completes when the new configuration is committed
     */
    CompletableFuture<Void> setVoters(String peerList);

    /**
     * The leader this node's client last talked to, if any (a hint: leadership may have moved since).
     *
     * @return the leader's node id, or empty
     */
    Optional<String> leaderHint();
}
